import Foundation
import QMP
import QMPTestSupport
import Testing

/// The files the shell writes, against real QEMU (the interactive ones in a real pseudo-terminal).
/// History: only the user's own file is written, entries other programs add survive, secrets stay
/// out, and a failure is said once. Log and record files: private, or a warning.
@Suite("Files the shell writes: history, log, record", .serialized, .timeLimit(.minutes(2)))
struct LocalFileTests {
    typealias Session = InteractiveShellTests.Session

    /// A user id that is not ours, for files another user planted.
    static let otherUser: uid_t = 4242

    @Test func aHistoryThatCannotBeWrittenIsReportedOnce() throws {
        let home = try TemporaryDirectory(prefix: "qmp-home")
        let history = home.file("no-such-directory/history")
        let session = try Session(home: home, arguments: ["--history", history])
        for _ in 1...2 {
            session.terminal.send("query-name\r")
            try session.waitForPromptLine("(QEMU)", below: #"{"return":{}}"#)
        }
        #expect(try session.leave() == 0)
        let notice = "could not write history file \(history): No such file or directory"
        #expect(timesShown(notice, by: session) == 1, "\(session.terminal.screen)")
    }

    /// A link or a file the user did not make is never written through, replaced or chmod'ed.
    @Test(arguments: [
        (linkOwner: otherUser, targetOwner: otherUser, notice: "a symbolic link owned by another user"),
        (linkOwner: getuid(), targetOwner: otherUser, notice: "another user's file"),
        (linkOwner: nil, targetOwner: otherUser, notice: "another user's file"),
    ])
    func aFileTheUserDidNotMakeIsNeverWritten(linkOwner: uid_t?, targetOwner: uid_t, notice: String) throws {
        let home = try TemporaryDirectory(prefix: "qmp-home")
        let (target, history) = try plantedFile(in: home, owner: targetOwner, mode: 0o644, linkOwner: linkOwner)
        let session = try Session(home: home, arguments: ["--history", history])
        try enterOneLineAndLeave(session)
        let shown = "history file \(history) is \(notice): history is kept in memory only"
        #expect(timesShown(shown, by: session) == 1, "\(session.terminal.screen)")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "victim's line\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: target)
        #expect(attributes[.posixPermissions] as? Int == 0o644)
        #expect(attributes[.ownerAccountID] as? Int == Int(targetOwner))
        if linkOwner != nil {
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: history) == target)
        }
    }

    /// Python's qmp-shell shares the file: what it saved while this session ran is kept.
    @Test func savingKeepsWhatAnotherProgramAddedMeanwhile() throws {
        let home = try TemporaryDirectory(prefix: "qmp-home")
        let history = home.file(".qmp-shell_history")
        try "query-status\n".write(toFile: history, atomically: false, encoding: .utf8)
        let session = try Session(home: home)
        // Python's readline rewrites the file with what it loaded plus its own lines.
        try "query-status\nquery-version\n".write(toFile: history, atomically: false, encoding: .utf8)
        try enterOneLineAndLeave(session)
        #expect(try String(contentsOfFile: history, encoding: .utf8) == "query-status\nquery-version\nquery-name\n")
    }

    /// Lines mentioning a secret or password stay out of the file, whatever their syntax; the
    /// session's Up arrow still recalls them.
    @Test func linesWithSecretsStayOutOfTheFile() throws {
        let home = try TemporaryDirectory(prefix: "qmp-home")
        let secretLines = [
            "object-add qom-type=secret id=sec0 data=letmein",
            "set_password protocol=vnc password=hunter2",
            #"{"execute":"x","arguments":{"Password":"p"}}"#,
        ]
        let session = try Session(home: home)
        for (index, line) in (secretLines + ["query-name"]).enumerated() {
            session.terminal.send(line + "\r")
            // Each line entered stays on screen after its prompt; the next prompt follows.
            try session.terminal.waitForScreen { screen in
                screen.lines.filter { $0.hasPrefix("(QEMU)") }.count == index + 2
                    && screen.lines.last(where: { !$0.isEmpty }) == "(QEMU)"
            }
        }
        session.terminal.send("\u{1b}[A\u{1b}[A")
        try session.waitForPromptLine("(QEMU) " + secretLines[2])
        session.terminal.send("\u{3}")
        #expect(try session.leave() == 0)
        let saved = try String(contentsOfFile: home.file(".qmp-shell_history"), encoding: .utf8)
        #expect(saved == "query-name\n")
    }

    /// An existing `-l` file keeps its mode; readable by others, it is worth one warning.
    @Test func anExistingLogReadableByOthersKeepsItsModeWithOneWarning() throws {
        let qemu = try QEMUInstance()
        let directory = try TemporaryDirectory()
        let log = directory.file("shared.jsonl")
        try "".write(toFile: log, atomically: false, encoding: .utf8)
        try own(log, by: getuid(), mode: 0o644)
        let result = try ShellBinary.run(["-l", log, "-c", "query-name", "-c", "query-name", qemu.socketPath])
        #expect(result.status == 0)
        #expect(
            result.standardError
                == "qmp-shell: warning: log file \(log) is readable by other users (mode 644); it keeps its mode\n")
        #expect(try FileManager.default.attributesOfItem(atPath: log)[.posixPermissions] as? Int == 0o644)
        #expect(try String(contentsOfFile: log, encoding: .utf8).contains("query-name"))
    }

    /// The same for `--record`, whose warning appears in the interactive shell.
    @Test func anExistingRecordFileReadableByOthersKeepsItsModeWithOneWarning() throws {
        let directory = try TemporaryDirectory()
        let script = directory.file("session.qmp")
        try "".write(toFile: script, atomically: false, encoding: .utf8)
        try own(script, by: getuid(), mode: 0o640)
        let session = try Session(arguments: ["--record", script])
        try enterOneLineAndLeave(session)
        let warning = "record file \(script) is readable by other users (mode 640); it keeps its mode"
        #expect(timesShown(warning, by: session) == 1, "\(session.terminal.screen)")
        #expect(try FileManager.default.attributesOfItem(atPath: script)[.posixPermissions] as? Int == 0o640)
    }

    /// `-l` and `--record` never append through another user's link or to another user's file:
    /// one warning, and the session goes on without that file.
    @Test(arguments: [(planted: true, notice: "a symbolic link owned by another user"), (false, "another user's file")])
    func aLogOrRecordFileTheUserDidNotMakeIsNeverWritten(planted: Bool, notice: String) throws {
        let qemu = try QEMUInstance()
        let directory = try TemporaryDirectory()
        let (target, path) = try plantedFile(
            in: directory, owner: Self.otherUser, mode: 0o600, linkOwner: planted ? Self.otherUser : nil)
        let result = try ShellBinary.run(["-l", path, "-c", "query-name", qemu.socketPath])
        #expect(result.status == 0)
        #expect(result.lines == [#"{"return":{}}"#])
        #expect(result.standardError == "qmp-shell: warning: log file \(path) is \(notice)\n")

        let session = try Session(qemu: qemu, arguments: ["--record", path])
        try enterOneLineAndLeave(session)
        #expect(timesShown("record file \(path) is \(notice)", by: session) == 1, "\(session.terminal.screen)")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "victim's line\n")
    }

    /// A file of `owner` holding one line, and the path to give the shell: the file itself, or a
    /// symbolic link to it that `linkOwner` owns.
    private func plantedFile(
        in directory: TemporaryDirectory, owner: uid_t, mode: mode_t, linkOwner: uid_t?
    ) throws -> (target: String, path: String) {
        let target = directory.file("victim")
        try "victim's line\n".write(toFile: target, atomically: false, encoding: .utf8)
        try own(target, by: owner, mode: mode)
        guard let linkOwner else { return (target, target) }
        let link = directory.file("planted-link")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        guard lchown(link, linkOwner, gid_t(linkOwner)) == 0 else { throw FakeServerError("lchown: errno \(errno)") }
        return (target, link)
    }

    /// Runs `query-name` in the interactive shell, then leaves with Ctrl-D, which must exit 0.
    private func enterOneLineAndLeave(_ session: Session) throws {
        session.terminal.send("query-name\r")
        try session.waitForPromptLine("(QEMU)", below: #"{"return":{}}"#)
        #expect(try session.leave() == 0)
    }

    /// How many times the shell wrote `text` to the terminal (a long line may wrap on screen).
    private func timesShown(_ text: String, by session: Session) -> Int {
        session.terminal.transcript.components(separatedBy: text).count - 1
    }

    private func own(_ path: String, by user: uid_t, mode: mode_t) throws {
        guard chown(path, user, gid_t(user)) == 0, chmod(path, mode) == 0 else {
            throw FakeServerError("cannot give \(path) to user \(user) (the test needs root): errno \(errno)")
        }
    }
}
