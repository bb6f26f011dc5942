import Synchronization

/// Where the core's warnings go: standard error, then the line editor once it owns the terminal.
final class DiagnosticSink: Sendable {
    private let output: Mutex<any ShellOutput>

    init(_ output: any ShellOutput) { self.output = Mutex(output) }

    func redirect(to output: any ShellOutput) { self.output.withLock { $0 = output } }

    func write(_ text: String) { output.withLock { $0 }.diagnostic(text) }
}
