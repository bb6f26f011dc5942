import QMP
import QMPTestSupport
import Synchronization
import Testing

@testable import QMPShell

/// What the runner does with each kind of line, against a real QEMU, and the order the printer
/// puts replies and events in.
@Suite(.timeLimit(.minutes(2))) struct CommandRunnerTests {
    /// Everything written, in order, results and diagnostics apart.
    final class CapturedOutput: ShellOutput {
        private let written = Mutex<[String]>([])
        func result(_ text: String) { written.withLock { $0.append(text) } }
        func diagnostic(_ text: String) { written.withLock { $0.append("stderr: " + text) } }
        var lines: [String] { written.withLock { $0 } }
    }

    /// A runner connected to a fresh QEMU, with the printer running as in a script run.
    private func withRunner(
        _ configure: (inout ShellConfiguration) -> Void = { _ in },
        _ body: (CommandRunner, CapturedOutput) async throws -> Void
    ) async throws {
        let qemu = try QEMUInstance()
        defer { qemu.kill() }
        let client = QMPClient()
        let listener = client.listen()
        try await client.connect(to: .unix(path: qemu.socketPath))
        let link = ServerLink(client: client, listener: listener)
        var configuration = ShellConfiguration()
        configure(&configuration)
        let output = CapturedOutput()
        let formatter = OutputFormatter(pretty: false, color: false)
        let printer = EventPrinter(link: link, output: output, formatter: formatter)
        let printing = Task { await printer.run() }
        let runner = CommandRunner(link: link, configuration: configuration, printer: printer, formatter: formatter)
        do {
            try await body(runner, output)
        } catch {
            printing.cancel()
            await client.disconnect()
            throw error
        }
        printing.cancel()
        await client.disconnect()
    }

    @Test func eachKindOfLineEndsAsItShould() async throws {
        try await withRunner { runner, output in
            #expect(await runner.run(line: "query-status") == .success)
            #expect(output.lines.last?.hasPrefix(#"{"return":{"#) == true, "\(output.lines)")
            // QEMU's error reply is shown, and the line fails with its text.
            #expect(
                await runner.run(line: "no-such-command")
                    == .commandError("CommandNotFound: The command no-such-command has not been found"))
            // A line that does not parse never reaches the server.
            let before = output.lines.count
            guard case .failed(let message) = await runner.run(line: "stop x") else {
                Issue.record("a malformed line did not fail")
                return
            }
            #expect(message.contains("column"))
            #expect(output.lines.count == before)
            #expect(await runner.run(line: "# only a comment") == .success)
            #expect(await runner.run(line: ".quit") == .quit)
        }
    }

    @Test func anEventThatCameBeforeTheReplyIsPrintedBeforeIt() async throws {
        try await withRunner { runner, output in
            // QEMU sends STOP before stop's reply: the screen shows them in that order, though
            // the event is printed by the printer's task and the reply by the command's.
            #expect(await runner.run(line: "stop") == .success)
            let lines = output.lines
            let event = try #require(lines.firstIndex { $0.contains(#""event":"STOP""#) })
            let reply = try #require(lines.firstIndex { $0 == #"{"return":{}}"# + "\n" })
            #expect(event < reply)
        }
    }

    @Test func waitConsumesTheEventItMatched() async throws {
        try await withRunner { runner, _ in
            #expect(await runner.run(line: "stop") == .success)
            #expect(await runner.run(line: ".wait STOP timeout=5") == .success)
            // The same STOP is not matched twice.
            #expect(await runner.run(line: ".wait STOP timeout=0.2") == .failed(".wait: no STOP within 0.2 s"))
        }
    }
}
