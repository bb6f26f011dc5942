import Foundation
import QMPTestSupport
import Testing

/// The options that work on a socket work the same through libvirt: -p, -v, -l, --record, and
/// --reconnect across a restart of libvirtd itself.
@Suite("Options through libvirt", .serialized, .timeLimit(.minutes(2)))
struct LibvirtShellOptionsTests {
    @Test func prettyVerboseAndTheLogShowWhatWentThroughLibvirt() throws {
        let domain = try LibvirtTestDomain(name: "qmp-shell-options")
        let scratch = try TemporaryDirectory(prefix: "qmp-libvirt-log")
        let log = scratch.file("messages.jsonl")
        let result = try ShellBinary.run([
            "--domain", domain.name, "--connect", try PrivateLibvirtd.uri(), "-p", "-v", "-l", log,
            "-c", "query-status",
        ])
        #expect(result.status == 0, "\(result.standardError)")
        // -p: indented; -v: the command echoed on standard error.
        #expect(result.standardOutput.contains("{\n    \"return\": {\n"), "\(result.standardOutput)")
        #expect(result.standardError.contains(#""execute": "query-status""#), "\(result.standardError)")
        // -l: what the client sent and what came back, as JSON lines (the greeting libvirt has
        // not is the one the transport makes from query-version).
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.contains { $0.contains(#""direction":"out""#) && $0.contains(#""execute":"query-status""#) })
        #expect(lines.contains { $0.contains(#""direction":"in""#) && $0.contains(#""status":"running""#) })
        #expect(lines.contains { $0.contains(#""direction":"in""#) && $0.contains(#""QMP""#) })
    }

    @Test func recordKeepsTheLinesThatSucceededOnADomain() throws {
        let domain = try LibvirtTestDomain(name: "qmp-shell-record")
        let scratch = try TemporaryDirectory(prefix: "qmp-libvirt-record")
        let record = scratch.file("session.qmp")
        let terminal = try PseudoTerminalSession(
            executable: ShellBinary.path,
            arguments: ["--domain", domain.name, "--connect", try PrivateLibvirtd.uri(), "--record", record],
            environment: ["NO_COLOR": "1", "HOME": scratch.path])
        try terminal.waitForText("(QEMU) ", timeout: .seconds(30))
        terminal.send("query-status\r")
        try terminal.waitForOutput(containing: #""status":"running""#, timeout: .seconds(20))
        terminal.send("no-such-command\r")
        try terminal.waitForOutput(containing: "CommandNotFound", timeout: .seconds(20))
        terminal.send("\u{4}")
        #expect(try terminal.waitForExit(timeout: .seconds(20)) == 0)
        let recorded = try String(contentsOfFile: record, encoding: .utf8).split(separator: "\n")
        #expect(recorded.first?.hasPrefix("# recorded by qmp-shell") == true, "\(recorded)")
        #expect(Array(recorded.dropFirst()) == ["query-status"], "\(recorded)")
    }

    @Test func reconnectFollowsTheDomainAcrossARestartOfLibvirtd() throws {
        let daemon = try ExtraLibvirtd()
        var domain: LibvirtTestDomain? = try LibvirtTestDomain(name: "qmp-shell-daemon-restart", uri: daemon.uri)
        let name = try #require(domain?.name)
        let terminal = try PseudoTerminalSession(
            executable: ShellBinary.path,
            arguments: ["--domain", name, "--connect", daemon.uri, "--reconnect", "--retry-delay", "0.2"],
            environment: ["NO_COLOR": "1", "HOME": "/nonexistent"])
        try terminal.waitForText("(QEMU) ", timeout: .seconds(30))
        terminal.send("stop\r")
        try terminal.waitForOutput(containing: #""event":"STOP""#, timeout: .seconds(20))
        try daemon.restart()
        try terminal.waitForOutput(containing: "reconnected to QEMU", timeout: .seconds(40))
        // The same QEMU, still paused: the daemon's restart did not restart the domain.
        terminal.send("query-status\r")
        try terminal.waitForOutput(containing: #""status":"paused""#, timeout: .seconds(20))
        terminal.send("\u{4}")
        #expect(try terminal.waitForExit(timeout: .seconds(20)) == 0)
        domain = nil  // before the daemon goes
        withExtendedLifetime(daemon) {}
    }
}
