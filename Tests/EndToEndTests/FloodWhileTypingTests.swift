import Foundation
import QMP
import QMPTestSupport
import QMPTestTraits
import Testing

/// A user typing while events pour in without end: the prompt answers, memory stays bounded,
/// what could not be shown is counted on screen, and Ctrl-D still ends the shell.
@Suite("Typing through an event flood", .timeLimit(.minutes(2)), .checksFakeServerScripts)
struct FloodWhileTypingTests {
    @Test func thePromptStaysResponsiveAndMemoryBoundedUnderAnEndlessFlood() throws {
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            let event =
                #"{"event": "BLOCK_JOB_READY", "data": {"device": "j0", "len": 1, "offset": 1, "speed": 0, "type": "mirror"}, "timestamp": {"seconds": 1, "microseconds": 1}}"#
                + "\r\n"
            let chunk = String(repeating: event, count: 1000)
            // A thousand events per write until the shell goes away: the flood never pauses on its
            // own, so the shell must leave while it goes on.
            while connection.send(chunk) {
                // Answer commands typed meanwhile, as QEMU would between events.
                if let message = connection.readMessage(timeout: .milliseconds(1)) {
                    connection.reply(to: message, with: ["status": "running"])
                }
            }
        }
        let home = try TemporaryDirectory(prefix: "qmp-home")
        let terminal = try PseudoTerminalSession(
            executable: ShellBinary.path, arguments: [server.path], environment: ["HOME": home.path, "NO_COLOR": "1"])
        try terminal.waitForText("(QEMU) ", timeout: .seconds(30))
        try terminal.waitForText("BLOCK_JOB_READY", timeout: .seconds(30))
        terminal.send("query-status\r")
        // The reply and the notice scroll away under the flood: look for them in the output.
        // The whole test takes about 10 s on a quiet machine and 28 s with five builds sharing
        // the two cores; each wait allows twice that.
        try terminal.waitForOutput(containing: #"{"return":{"status":"running"}}"#, timeout: .seconds(60))
        try terminal.waitForOutput(containing: "events were dropped", timeout: .seconds(60))
        let peak = try peakResidentMebibytes(of: terminal.pid)
        #expect(peak < 256, "peak memory \(peak) MiB")
        // Leaving must not wait for the flood to stop: it never does.
        terminal.send("\u{4}")
        let status = try terminal.waitForExit(timeout: .seconds(30))
        #expect(status == 0, "\(terminal.screen)")
    }

    /// VmHWM from /proc: the most memory the process has held.
    private func peakResidentMebibytes(of pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Int(line.split(whereSeparator: \.isWhitespace)[1])
        else { throw FakeServerError("no VmHWM for \(pid)") }
        return kilobytes / 1024
    }
}
