import Foundation
import QMP
import QMPTestSupport
import QMPTestTraits
import Testing

/// Events that read well on a terminal, and the schema's names wherever a name is typed.
@Suite(
    "Readable events and did-you-mean against real QEMU", .serialized, .timeLimit(.minutes(2)), .checksFakeServerScripts
)
struct NamesAndEventsTests {
    @Test func eventsReadLikeWatchAndRepliesAreColouredApart() async throws {
        let qemu = try QEMUInstance()
        let home = try TemporaryDirectory(prefix: "qmp-home")
        // Colours on (no NO_COLOR).
        let terminal = try LiveTerminal.open(on: qemu, home: home)
        try await qemu.controlExecute("stop")
        let screen = try terminal.waitForScreen { $0.lines.contains { $0.hasSuffix(" STOP") } }
        let line = try #require(screen.lines.first { $0.hasSuffix(" STOP") })
        #expect(line.wholeMatch(of: /\d\d:\d\d:\d\d\.\d\d\d STOP/) != nil, "\(line)")
        try await qemu.controlExecute("cont")
        try terminal.waitForScreen { $0.lines.contains { $0.hasSuffix(" RESUME") } }
        // The name in cyan, the time dim; an error reply in red, a success not.
        #expect(terminal.transcript.contains("\u{1B}[36mSTOP\u{1B}[0m"))
        terminal.send("query-status\r")
        try terminal.waitForText(#""status":"running""#)
        terminal.send("device_del id=nothing\r")
        try terminal.waitForText("DeviceNotFound")
        #expect(terminal.transcript.contains("\u{1B}[31m{\"error\":{\"class\":\"DeviceNotFound\""))
        #expect(!terminal.transcript.contains("\u{1B}[31m{\"return\""))
        terminal.send("\u{4}")
        #expect(try terminal.waitForExit() == 0)
        // Piped, events stay the server's JSON.
        let piped = try ShellBinary.run(["-c", "stop", "-c", "cont", qemu.socketPath])
        #expect(piped.lines.contains { $0.hasPrefix(#"{"timestamp":"#) && $0.contains(#""event":"STOP""#) })
    }

    @Test func anUnknownCommandIsRefusedBeforeItIsSentWithTheClosestName() throws {
        let qemu = try QEMUInstance()
        let log = qemu.directory.file("messages.log")
        let result = try ShellBinary.run([
            "-l", log, "-c", "blockdev-add driver=null-co node-name=n0", "-c", "query-stauts", qemu.socketPath,
        ])
        #expect(result.status == 1)
        #expect(result.standardError == "-c:2: unknown command 'query-stauts' (did you mean 'query-status'?)\n")
        #expect(result.lines == [#"{"return":{}}"#])
        let sent = try String(contentsOfFile: log, encoding: .utf8)
        #expect(!sent.contains("query-stauts"), "never sent")
    }

    @Test func waitAndEventAndHelpKnowTheServersEvents() throws {
        let qemu = try QEMUInstance()
        let started = ContinuousClock.now
        let wait = try ShellBinary.run(["-c", ".wait BLOCK_JOB_COMPLETE timeout=30", qemu.socketPath])
        #expect(wait.status == 1)
        #expect(
            wait.standardError
                == "-c:1: .wait: no event 'BLOCK_JOB_COMPLETE' in this QEMU (did you mean 'BLOCK_JOB_COMPLETED'?)\n")
        #expect(ContinuousClock.now - started < .seconds(15), "not its whole timeout")
        let event = try ShellBinary.run(["--event", "RESUEM", "-c", "query-name", qemu.socketPath])
        #expect(event.status == 2)
        #expect(
            event.standardError == "qmp-shell: --event RESUEM: no such event in this QEMU (did you mean 'RESUME'?)\n")
        #expect(event.lines.isEmpty)
        let help = try ShellBinary.run(["-c", ".help BLOCK_JOB_COMPLETE", qemu.socketPath])
        #expect(help.status == 1)
        #expect(help.standardError.contains("(did you mean 'BLOCK_JOB_COMPLETED'?)"), "\(help.standardError)")
    }

    @Test func anEnumValueSuggestsTheClosestValue() throws {
        let qemu = try QEMUInstance()
        let result = try ShellBinary.run(["-c", "blockdev-add driver=qcow3 node-name=x", qemu.socketPath])
        #expect(result.status == 1)
        #expect(result.standardError.contains("(did you mean 'qcow2'?)"), "\(result.standardError)")
    }

    @Test func dryRunChecksLinesWithTheSchemaCachedForTheServerNamed() throws {
        let qemu = try QEMUInstance()
        let cache = try TemporaryDirectory(prefix: "qmp-cache")
        let environment = ["XDG_CACHE_HOME": cache.path]
        let badLine = "blockdev-add driver=qcow3 node-name=x"
        // Before the shell has talked to this server, a dry run has no schema to check with.
        let before = try ShellBinary.run(["--dry-run", "-c", badLine, qemu.socketPath], environment: environment)
        #expect(before.status == 0, "\(before.standardError)")
        // A session that loads the schema notes which one this server has.
        let session = try ShellBinary.run(
            ["-c", "blockdev-add driver=null-co node-name=n0", qemu.socketPath], environment: environment)
        #expect(session.status == 0, "\(session.standardError)")
        let after = try ShellBinary.run(["--dry-run", "-c", badLine, qemu.socketPath], environment: environment)
        #expect(after.status == 1)
        #expect(after.standardError.contains("(did you mean 'qcow2'?)"), "\(after.standardError)")
        #expect(after.lines.isEmpty)
        // Typed by the schema: `size` is a number there.
        let typed = try ShellBinary.run(
            ["--dry-run", "-c", "blockdev-add driver=null-co node-name=y size=1024", qemu.socketPath],
            environment: environment)
        #expect(typed.status == 0, "\(typed.standardError)")
        #expect(typed.lines.first?.contains(#""size":1024"#) == true, "\(typed.standardOutput)")
        // Another server's name finds nothing.
        let other = try ShellBinary.run(
            ["--dry-run", "-c", badLine, qemu.directory.file("other.sock")], environment: environment)
        #expect(other.status == 0, "\(other.standardError)")
    }
}
