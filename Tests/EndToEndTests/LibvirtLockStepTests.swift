import Foundation
import QMPTestSupport
import Testing

/// A script through libvirt with no reply timeout makes libvirt's calls on the connection's own
/// event loop (no hand-off between threads); with a timeout, on a thread of their own. What a user
/// sees must not change: a timeout still ends a line whose reply never comes, and the results
/// before a command that takes long are not held back by it.
@Suite("The shell through libvirt: scripts in lock-step", .serialized, .timeLimit(.minutes(2)))
struct LibvirtLockStepTests {
    @Test func aCommandTimeoutStillEndsALineWhoseQEMUStoppedAnswering() throws {
        // A daemon of its own: libvirt 9.0's daemon was seen to crash once when a client left
        // while its call waited on a stopped QEMU; the suite's daemon must not go down with it.
        let daemon = try ExtraLibvirtd()
        let domain = try LibvirtTestDomain(name: "qmp-shell-frozen", uri: daemon.uri)
        defer { withExtendedLifetime((daemon, domain)) {} }
        let qemus = LibvirtShellFaultTests.runningQEMUs(named: domain.name)
        let pid = try #require(qemus.count == 1 ? Int32(qemus[0]) : nil, "QEMUs: \(qemus)")
        let shell = try RunningShell([
            "--domain", domain.name, "--connect", daemon.uri,
            "--command-timeout", "1", "--keep-going", "-f", "-",
        ])
        // Connected: the note on libvirt's passthrough comes once the domain's monitor answered.
        try shell.waitUntil("the connection") { $0.standardError.contains("custom-monitor") }
        kill(pid, SIGSTOP)
        defer { kill(pid, SIGCONT) }
        shell.write("query-status\nquery-name\n")
        shell.closeInput()
        #expect(try shell.waitForExit(timeout: .seconds(30)) == 1, "a timed-out line is a failed line")
        let failures = shell.standardError.split(separator: "\n").filter { $0.hasPrefix("<stdin>") }
        #expect(
            failures == [
                "<stdin>:1: no reply to query-status within 1 s", "<stdin>:2: no reply to query-name within 1 s",
            ],
            "\(shell.standardError)")
        #expect(shell.standardOutput.isEmpty)
    }

    @Test func resultsBeforeACommandThatTakesLongAreWrittenWhileItRuns() throws {
        let domain = try LibvirtTestDomain(name: "qmp-shell-slow-open")
        let directory = try TemporaryDirectory()
        // QEMU opens a node's file in its main loop: reading a FIFO no one writes holds it there.
        let fifo = directory.file("image")
        #expect(mkfifo(fifo, 0o600) == 0)
        let script = directory.file("script.qmp")
        // The second reply comes a round trip after the first, which was written at once: it waits
        // in a batch, and the slow command (JSON: no schema to fetch in between) starts at once.
        let quick = ["query-status", "query-status"]
        let slow =
            #"{"execute": "blockdev-add", "arguments": {"driver": "file", "node-name": "slow", "#
            + #""read-only": true, "filename": "\#(fifo)"}}"#
        try (quick + [slow]).joined(separator: "\n").write(toFile: script, atomically: true, encoding: .utf8)
        let shell = try RunningShell([
            "--domain", domain.name, "--connect", try PrivateLibvirtd.uri(), "--keep-going", "-f", script,
        ])
        // However the test ends, QEMU is not left waiting for a writer.
        defer { close(open(fifo, O_WRONLY | O_NONBLOCK)) }
        // Standard output is a pipe: replies go out in batches, none held longer than 10 ms.
        try shell.waitUntil("the replies before the slow command", timeout: .seconds(30)) {
            $0.standardOutput.components(separatedBy: #""status""#).count - 1 == quick.count
        }
        #expect(shell.isRunning, "the slow command is still out")
        // Let it go on: a writer opens the FIFO (refused until QEMU, its reader, has opened it).
        var writer: Int32 = -1
        try shell.waitUntil("QEMU to open the FIFO", timeout: .seconds(10)) { _ in
            writer = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
            return writer >= 0
        }
        defer { close(writer) }
        let status = try shell.waitForExit(timeout: .seconds(30))
        #expect(status == 0 || status == 1, "\(shell.standardError)")
        #expect(!shell.standardError.contains("disconnected"), "\(shell.standardError)")
    }
}
