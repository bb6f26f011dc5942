import Foundation
import QMP
import QMPTestSupport
import QMPTestTraits
import Testing

/// Launch mode, file-descriptor passing and TCP monitors, as a user runs them.
@Suite(
    "Launch mode, fd passing and TCP against real QEMU", .serialized, .timeLimit(.minutes(2)), .checksFakeServerScripts)
struct LaunchAndTransportTests {
    /// The shell's private directories still on disk.
    func leftoverDirectories() throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: "/tmp").filter { $0.hasPrefix("qmp-shell-") })
    }

    @Test func launchRunsTheLinesAndLeavesNothingBehind() throws {
        let before = try leftoverDirectories()
        let marker = "qmp-launch-\(UInt64.random(in: 1...UInt64.max))"
        let result = try ShellBinary.run([
            "--launch", "-c", "query-name", "--", QEMUInstance.binary, "-M", "none", "-nodefaults", "-display", "none",
            "-name", marker,
        ])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(try JSONParser.parse(try #require(result.lines.first))["return"]?["name"]?.stringValue == marker)
        #expect(try leftoverDirectories() == before, "no socket directory left")
        #expect(processesWhoseCommandLineContains(marker).isEmpty, "no QEMU left")
    }

    /// Whatever ends the shell, the QEMU it launched ends with it and no file is left: the
    /// signals a user or a closed terminal sends, and SIGKILL, which the shell cannot catch; while
    /// a script runs, or at the interactive prompt (where Ctrl-C only clears the line).
    @Test(
        arguments: [SIGINT, SIGTERM, SIGHUP, SIGKILL].map { ($0, false) }
            + [SIGTERM, SIGHUP, SIGKILL].map { ($0, true) })
    func aSignalThatEndsTheShellEndsItsQEMU(_ signal: Int32, interactive: Bool) throws {
        let before = try leftoverDirectories()
        let marker = "qmp-launch-\(UInt64.random(in: 1...UInt64.max))"
        let lines = interactive ? [] : ["-c", "query-name", "-c", ".sleep 60"]
        let terminal = try PseudoTerminalSession(
            executable: ShellBinary.path,
            arguments: ["--launch"] + lines + [
                "--", QEMUInstance.binary, "-M", "none", "-nodefaults", "-display", "none", "-name", marker,
            ])
        let ready = interactive ? "(QEMU) " : #"{"return":{"name":"\#(marker)"}}"#
        try terminal.waitForText(ready, timeout: .seconds(30))
        let qemu = try #require(
            processesWhoseCommandLineContains(marker).compactMap { Int32($0) }.first { $0 != terminal.pid },
            "QEMU runs")
        kill(terminal.pid, signal)
        #expect(try terminal.waitForExit() == 128 + signal)
        #expect(waitUntilGone(qemu, within: .seconds(10)), "QEMU \(qemu) outlived the shell")
        #expect(try leftoverDirectories() == before, "no socket directory left")
    }

    @Test func aQEMUThatNeverAnswersQuitIsStoppedWithinItsDeadline() throws {
        let marker = "qmp-launch-\(UInt64.random(in: 1...UInt64.max))"
        let terminal = try PseudoTerminalSession(
            executable: ShellBinary.path,
            arguments: [
                "--launch", "--", QEMUInstance.binary, "-M", "none", "-nodefaults", "-display", "none", "-name", marker,
            ])
        try terminal.waitForText("(QEMU) ", timeout: .seconds(30))
        let qemu = try #require(
            processesWhoseCommandLineContains(marker).compactMap { Int32($0) }.first { $0 != terminal.pid },
            "QEMU runs")
        // As if stopped in a debugger: QEMU reads nothing, so `quit` is never answered.
        kill(qemu, SIGSTOP)
        terminal.send("\u{4}")
        // 5 s for QEMU to exit after quit, then SIGTERM (pending while it is stopped), 3 s, then SIGKILL.
        #expect(try terminal.waitForExit(timeout: .seconds(20)) == 0, "\(terminal.screen)")
        #expect(waitUntilGone(qemu, within: .seconds(5)), "QEMU \(qemu) outlived the shell")
    }

    /// Whether process `pid` has ended (gone, or a zombie nobody reaped yet) within `timeout`.
    private func waitUntilGone(_ pid: Int32, within timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard let stat = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return true }
            // "pid (name) STATE ...": the state follows the last ')'.
            let text = String(decoding: stat, as: UTF8.self)
            if let close = text.lastIndex(of: ")"), text[close...].dropFirst(2).first == "Z" { return true }
            usleep(20_000)
        }
        return false
    }

    @Test func aMissingQEMUBinaryIsAClearErrorAndExitThree() throws {
        let result = try ShellBinary.run(["--launch", "-c", "query-status", "--", "/nonexistent/qemu", "-M", "none"])
        #expect(result.status == 3)
        #expect(result.standardError == "qmp-shell: cannot start /nonexistent/qemu: No such file or directory\n")
    }

    @Test func aBadQEMUOptionShowsQEMUsOwnMessage() throws {
        let before = try leftoverDirectories()
        let result = try ShellBinary.run([
            "--launch", "-c", "query-status", "--", QEMUInstance.binary, "-M", "none", "-no-such-option",
        ])
        #expect(result.status == 3)
        #expect(result.standardError.contains("QEMU exited at start"))
        #expect(result.standardError.contains("-no-such-option: invalid option"), "\(result.standardError)")
        #expect(try leftoverDirectories() == before)
    }

    @Test func addFdPassesAnImageThatBlockdevAddThenOpens() throws {
        let qemu = try QEMUInstance()
        let image = qemu.directory.file("disk.qcow2")
        try runTool("/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", image, "16M"])
        let result = try ShellBinary.run([
            "-c", ".add-fd \(image) opaque=disk",
            "-c", "blockdev-add driver=qcow2 node-name=d0 file.driver=file file.filename=/dev/fdset/0",
            "-c", "query-fdsets",
            qemu.socketPath,
        ])
        #expect(result.status == 0, "\(result.standardError)")
        let added = try JSONParser.parse(result.lines[0])
        #expect(added["return"]?["fdset-id"]?.intValue == 0)
        #expect(try JSONParser.parse(result.lines[1]) == ["return": [:]])
        #expect(result.lines[2].contains(#""opaque":"disk""#))
    }

    @Test func getfdThenClosefd() throws {
        let qemu = try QEMUInstance()
        let result = try ShellBinary.run([
            "-c", ".getfd spare /dev/null", "-c", "closefd fdname=spare", "-c", "closefd fdname=spare", qemu.socketPath,
        ])
        #expect(result.status == 1)
        #expect(result.lines.count == 3)
        #expect(result.lines[0] == #"{"return":{}}"#)
        #expect(result.lines[1] == #"{"return":{}}"#)
        #expect(
            result.standardError.contains("-c:3: GenericError"),
            "the second close finds nothing: \(result.standardError)")
    }

    @Test func tcpMonitorsWorkAndRefuseFdPassingClearly() throws {
        let port = try QEMUInstance.freeTCPPort()
        let qemu = try QEMUInstance(extraArguments: ["-qmp", "tcp:127.0.0.1:\(port),server=on,wait=off"])
        let result = try ShellBinary.run(["-c", "query-status", "-c", ".getfd x /dev/null", "127.0.0.1:\(port)"])
        #expect(result.status == 1)
        #expect(result.lines.first?.contains(#""status":"running""#) == true)
        #expect(result.standardError == "-c:2: file descriptors can only be passed over a UNIX socket, not TCP\n")
        _ = qemu
    }

    @Test func ipv6AddressesParse() throws {
        let result = try ShellBinary.run(["-c", "query-status", "[::1]:1"])
        #expect(result.status == 3)
        #expect(result.standardError.contains("could not connect to [::1]:1"), "\(result.standardError)")
    }

    private func runTool(_ path: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw FakeServerError("\(path) failed") }
    }

    /// Process ids whose command line contains `text`, from /proc.
    private func processesWhoseCommandLineContains(_ text: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { entry in
            guard entry.allSatisfy(\.isNumber),
                let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
            else { return false }
            return String(decoding: data, as: UTF8.self).contains(text)
        }
    }
}
