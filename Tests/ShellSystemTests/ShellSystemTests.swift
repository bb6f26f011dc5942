import Glibc
import Testing

@testable import ShellSystem

/// The system layer the shell's files and messages share: whole-file replacement, the
/// private-file rules, errno kept with the error, and the clock and duration texts.
@Suite(.timeLimit(.minutes(1))) struct ShellSystemTests {
    private func temporaryDirectory() throws -> String {
        var template = Array("/tmp/qmp-shell-system.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        try #require(made != nil)
        return String(cString: made!)
    }

    @Test func aReplacedFileHoldsTheNewBytesWhole() throws {
        let directory = try temporaryDirectory()
        defer { _ = system("rm -rf '\(directory)'") }
        let path = directory + "/cache.json"
        #expect(FileIO.replace(path, with: Array("first".utf8)) == nil)
        #expect(FileIO.replace(path, with: Array("second, longer".utf8)) == nil)
        let descriptor = open(path, O_RDONLY)
        defer { close(descriptor) }
        #expect(FileIO.readAll(descriptor).map { String(decoding: $0, as: UTF8.self) } == "second, longer")
        var status = stat()
        #expect(stat(path, &status) == 0)
        #expect(status.st_mode & 0o777 == 0o600)
        // Nothing is left beside it (no temporary file).
        #expect(try directoryEntries(directory) == ["cache.json"])
    }

    @Test func anotherUsersLinkIsRefusedAndAMissingFileIsNot() throws {
        let directory = try temporaryDirectory()
        defer { _ = system("rm -rf '\(directory)'") }
        let link = directory + "/trap"
        #expect(symlink("/etc/passwd", link) == 0)
        #expect(PrivateFile.refusal(directory + "/new", what: "log file", regularOnly: false) == nil)
        // Ours: followed (a link to someone else's file is still refused, by the file's owner).
        let ownLink = PrivateFile.refusal(link, what: "log file", regularOnly: false)
        if geteuid() == 0 {
            #expect(ownLink == nil)  // root owns /etc/passwd
            #expect(lchown(link, 65_534, 65_534) == 0)
            #expect(
                PrivateFile.refusal(link, what: "log file", regularOnly: false)
                    == "log file \(link) is a symbolic link owned by another user")
        } else {
            #expect(ownLink == "log file \(link) is another user's file")
        }
    }

    @Test func aSystemErrorKeepsItsErrno() throws {
        let directory = try temporaryDirectory()
        defer { _ = system("rm -rf '\(directory)'") }
        #expect(throws: ShellError.self) {
            _ = try PrivateFile.openForAppending(directory + "/missing/log", what: "log file")
        }
        do {
            _ = try PrivateFile.openForAppending(directory + "/missing/log", what: "log file")
        } catch {
            #expect(error.code == ENOENT)
            #expect(error.description == "cannot open log file \(directory)/missing/log: No such file or directory")
        }
    }

    @Test func clockAndDurationTexts() {
        #expect(Duration.seconds(10).secondsText == "10 s")
        #expect(Duration.milliseconds(500).secondsText == "0.5 s")
        let stamp = ClockText.utcTimestamp()
        #expect(stamp.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z/) != nil)
        #expect(ClockText.localNow().wholeMatch(of: /\d\d:\d\d:\d\d\.\d{3}/) != nil)
        #expect(ClockText.local(seconds: 0, milliseconds: 7).hasSuffix(".007"))
        #expect("  a b \n".trimmingWhitespace() == "a b")
    }

    private func directoryEntries(_ path: String) throws -> [String] {
        let directory = try #require(opendir(path))
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}
