import Foundation
import QMPTestSupport

/// A shell in a pseudo-terminal on a real QEMU, for the tests of what the running VM shows.
enum LiveTerminal {
    /// Starts the shell on `qemu` (120x40) with its own HOME and `environment`; waits for the prompt.
    static func open(on qemu: QEMUInstance, home: TemporaryDirectory, environment: [String: String] = [:]) throws
        -> PseudoTerminalSession
    {
        let terminal = try PseudoTerminalSession(
            executable: ShellBinary.path, arguments: [qemu.socketPath],
            environment: ["HOME": home.path].merging(environment) { $1 }, columns: 120, rows: 40)
        try terminal.waitForText("(QEMU) ")
        return terminal
    }

    /// Runs `line` and waits for its reply (one more `{"return"` in the output).
    static func run(_ line: String, in terminal: PseudoTerminalSession) throws {
        let before = terminal.transcript.components(separatedBy: #"{"return""#).count
        terminal.send(line + "\r")
        try terminal.waitForScreen { _ in terminal.transcript.components(separatedBy: #"{"return""#).count > before }
    }

    /// The last non-empty line on screen: the prompt's.
    static func bottom(_ screen: TerminalScreen) -> String { screen.lines.last { !$0.isEmpty } ?? "" }
}
