import Foundation
import QMP
import QMPTestSupport
import QMPTestTraits
import Testing

/// Live progress above the prompt, in a pseudo-terminal against real QEMU.
@Suite("Job and migration progress above the prompt", .serialized, .timeLimit(.minutes(2)), .checksFakeServerScripts)
struct ProgressTests {
    /// The percentage on the progress line that starts with `name`, if one is on screen.
    static func percent(of name: String, on screen: TerminalScreen) -> Int? {
        guard let line = screen.lines.first(where: { $0.hasPrefix(name + "  [") }),
            let percent = line.firstRange(of: "%")
        else { return nil }
        return Int(line[..<percent.lowerBound].split(separator: " ").last ?? "")
    }

    @Test func aJobsBarAdvancesAboveAHalfTypedLineThenEndsInOneLine() throws {
        let qemu = try QEMUInstance()
        let home = try TemporaryDirectory(prefix: "qmp-home")
        let terminal = try LiveTerminal.open(on: qemu, home: home)
        // About 4 s at 1 MiB/s.
        for line in try Self.backupLines(in: qemu, speed: 1_048_576) { try LiveTerminal.run(line, in: terminal) }
        terminal.send("query-stat")
        let first = try terminal.waitForScreen(timeout: .seconds(20)) { screen in
            LiveTerminal.bottom(screen) == "(QEMU) query-stat" && Self.percent(of: "bk backup", on: screen) != nil
        }
        let start = try #require(Self.percent(of: "bk backup", on: first))
        let line = try #require(first.lines.first { $0.hasPrefix("bk backup  [") })
        #expect(line.contains("running"), "\(line)")
        // The bar moves on, above the line being typed, which stays as it was.
        try terminal.waitForScreen(timeout: .seconds(20)) { screen in
            LiveTerminal.bottom(screen) == "(QEMU) query-stat"
                && (Self.percent(of: "bk backup", on: screen) ?? 0) > start
        }
        let ended = try terminal.waitForScreen(timeout: .seconds(30)) { screen in
            screen.lines.contains("bk backup: completed") && LiveTerminal.bottom(screen) == "(QEMU) query-stat"
        }
        #expect(!ended.lines.contains { $0.hasPrefix("bk backup  [") }, "the live line is gone: \(ended.lines)")
        // The half-typed line is intact: finishing it runs it.
        terminal.send("us\r")
        try terminal.waitForText(#""status":"running""#)
        terminal.send("\u{4}")
        #expect(try terminal.waitForExit() == 0)
    }

    /// Starts a backup `bk` of 4 MiB at 256 KiB/s in `qemu` (about 16 s; a running backup sends
    /// no event until it ends) with a run of the shell of its own through `socket`, which exits
    /// and leaves the job running.
    static func startSlowBackup(in qemu: QEMUInstance, through socket: String) throws {
        let lines = try backupLines(in: qemu, speed: 262_144)
        let run = try ShellBinary.run(lines.flatMap { ["-c", $0] } + [socket])
        #expect(run.status == 0, "\(run.standardError)")
    }

    /// The lines that start a backup `bk` of a 4 MiB image (written in `qemu`'s directory) to a
    /// null node, at `speed` bytes a second.
    static func backupLines(in qemu: QEMUInstance, speed: Int) throws -> [String] {
        let source = try qemu.directory.filledFile("source.raw", megabytes: 4)
        return [
            "blockdev-add driver=file node-name=src filename=\(source)",
            "blockdev-add driver=null-co node-name=sink size=4194304",
            "blockdev-backup job-id=bk device=src target=sink sync=full speed=\(speed)",
        ]
    }

    /// Waits (3 s at most) for `bk`'s live line, checks no job event came meanwhile, then for its end.
    static func expectRunningBackupShownAtOnce(on terminal: PseudoTerminalSession, since mark: String) throws {
        let drawn = try terminal.waitForScreen(timeout: .seconds(3)) { Self.percent(of: "bk backup", on: $0) != nil }
        #expect(
            drawn.lines.contains { $0.hasPrefix("bk backup  [") && $0.hasSuffix("running") }, "\(drawn.lines)")
        // Drawn from the first look, not from an event.
        let since = terminal.transcript.components(separatedBy: mark).last ?? ""
        #expect(!since.contains("JOB_STATUS_CHANGE") && !since.contains("BLOCK_JOB"), "\(since)")
        // The line lives on as if the shell had started the job.
        try terminal.waitForScreen(timeout: .seconds(40)) { $0.lines.contains("bk backup: completed") }
    }

    @Test func aJobAlreadyRunningWhenTheShellConnectsShowsAtOnceAndAnEndedOneIsNotAnnounced() throws {
        let qemu = try QEMUInstance()
        let home = try TemporaryDirectory(prefix: "qmp-home")
        let old = try qemu.directory.filledFile("old.raw", megabytes: 1)
        // One job ended before (kept, not dismissed); the other runs on.
        let ended = try ShellBinary.run(
            [
                "blockdev-add driver=file node-name=old filename=\(old)",
                "blockdev-add driver=null-co node-name=oldsink size=1048576",
                "blockdev-backup job-id=done device=old target=oldsink sync=full auto-dismiss=false",
            ].flatMap { ["-c", $0] } + [qemu.socketPath])
        #expect(ended.status == 0, "\(ended.standardError)")
        // Its end, from query-jobs (a megabyte unthrottled takes milliseconds).
        let deadline = ContinuousClock.now + .seconds(10)
        while try !ShellBinary.run(["-c", "query-jobs", qemu.socketPath]).standardOutput.contains(
            #""status":"concluded""#)
        {
            try #require(ContinuousClock.now < deadline, "the job 'done' did not conclude")
            usleep(50_000)
        }
        try Self.startSlowBackup(in: qemu, through: qemu.socketPath)
        let terminal = try LiveTerminal.open(on: qemu, home: home)
        try Self.expectRunningBackupShownAtOnce(on: terminal, since: "Welcome")
        // The job that had ended is not news (the first look drew bk after looking at it).
        #expect(!terminal.transcript.contains("done backup"), "\(terminal.transcript)")
        terminal.send("\u{4}")
        #expect(try terminal.waitForExit() == 0)
    }

    @Test func aJobRunningWhenTheShellReconnectsShowsAtOnce() throws {
        let vm = try RestartableQEMU()
        let path = vm.socketPath
        let home = try TemporaryDirectory(prefix: "qmp-home")
        // Slow retries, so the job runs well before the shell is back.
        let terminal = try PseudoTerminalSession(
            executable: ShellBinary.path, arguments: ["--reconnect", "--retry-delay", "6", path],
            environment: ["HOME": home.path], columns: 120, rows: 40)
        try terminal.waitForText("(QEMU) ")
        vm.kill()
        try terminal.waitForText("reconnecting to \(path)")
        let second = try vm.restart()
        try Self.startSlowBackup(in: second, through: second.controlPath)
        try terminal.waitForText("reconnected to QEMU", timeout: .seconds(15))
        try Self.expectRunningBackupShownAtOnce(on: terminal, since: "reconnected to QEMU")
        terminal.send("\u{4}")
        #expect(try terminal.waitForExit() == 0)
    }

    @Test func aMigrationShowsItsBarThenItsEnd() throws {
        // A stopped PC with RAM to send, slowly: 256 MiB of mostly zero pages at 128 KiB/s.
        let qemu = try QEMUInstance(machine: "pc", extraArguments: ["-S", "-m", "256"])
        let home = try TemporaryDirectory(prefix: "qmp-home")
        let terminal = try LiveTerminal.open(on: qemu, home: home)
        try LiveTerminal.run("migrate-set-parameters max-bandwidth=131072", in: terminal)
        try LiveTerminal.run("migrate uri=exec:cat>/dev/null", in: terminal)
        try terminal.waitForScreen(timeout: .seconds(20)) { Self.percent(of: "migration", on: $0) != nil }
        try terminal.waitForScreen(timeout: .seconds(60)) { $0.lines.contains("migration: completed") }
        terminal.send("\u{4}")
        #expect(try terminal.waitForExit() == 0)
    }

    @Test func noBarsWithNoColorButJobsListsThem() throws {
        let qemu = try QEMUInstance()
        let home = try TemporaryDirectory(prefix: "qmp-home")
        let terminal = try LiveTerminal.open(on: qemu, home: home, environment: ["NO_COLOR": "1"])
        for line in try Self.backupLines(in: qemu, speed: 65_536) { try LiveTerminal.run(line, in: terminal) }
        terminal.send(".jobs\r")
        let screen = try terminal.waitForScreen {
            $0.lines.contains { $0.hasPrefix("bk backup  ") && $0.hasSuffix("running") }
        }
        #expect(!screen.lines.contains { $0.contains("[") && $0.contains("░") }, "\(screen.lines)")
        // Piped, .jobs is one JSON object (through QEMU's other monitor: the shell holds this one).
        let piped = try ShellBinary.run(["-c", ".jobs", qemu.controlPath])
        #expect(piped.status == 0, "\(piped.standardError)")
        let object = try JSONParser.parse(try #require(piped.lines.first))
        #expect(object["jobs"]?.arrayValue?.first?["id"] == "bk")
        terminal.send("\u{4}")
        #expect(try terminal.waitForExit() == 0)
    }

    @Test func jobInAScriptDrawsItsBarOnAStandardErrorTerminalAndErasesIt() throws {
        let qemu = try QEMUInstance()
        let home = try TemporaryDirectory(prefix: "qmp-home")
        let output = qemu.directory.file("out.jsonl")
        let lines = try Self.backupLines(in: qemu, speed: 1_048_576) + [".job bk"]
        // Standard error (and input) on the terminal, standard output to a file.
        let terminal = try PseudoTerminalSession(
            executable: "/bin/sh",
            arguments: ["-c", "exec \"$0\" \"$@\" > '\(output)'", ShellBinary.path]
                + lines.flatMap { ["-c", $0] } + [qemu.socketPath],
            environment: ["HOME": home.path], columns: 120, rows: 30)
        let drawn = try terminal.waitForScreen(timeout: .seconds(20)) {
            ProgressTests.percent(of: "bk backup", on: $0) != nil
        }
        #expect(drawn.lines.contains { $0.hasPrefix("bk backup  [") && $0.hasSuffix("running") }, "\(drawn.lines)")
        #expect(try terminal.waitForExit(timeout: .seconds(30)) == 0)
        #expect(!terminal.screen.lines.contains { $0.hasPrefix("bk backup  [") }, "erased: \(terminal.screen.lines)")
        let written = try String(contentsOfFile: output, encoding: .utf8)
        #expect(written.contains(#""status":"concluded""#))
        #expect(!written.contains("bk backup  ["), "standard output keeps only JSON")
    }
}
