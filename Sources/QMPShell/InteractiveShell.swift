import QMPLineEditing
import QMPSchema
import QMP
import Synchronization

/// Prints through the line editor, above the prompt.
public struct EditorOutput: ShellOutput {
    let editor: LineEditor

    public init(editor: LineEditor) { self.editor = editor }

    public func result(_ text: String) { editor.print(text) }
    public func diagnostic(_ text: String) { editor.print(text) }
    /// More than this waiting for the terminal means events should wait (and, if they keep
    /// coming, be dropped and counted) rather than grow memory.
    public var isBacklogged: Bool { editor.pendingOutputBytes > 1 << 20 }
}

/// The line being run, so Ctrl-C (which the editor reports while no line is read) can interrupt
/// a long `.wait` or `.sleep`.
///
/// Ctrl-C pressed just after Enter, before the line has started, is kept for it: the editor
/// reports it once the line has left the prompt, and the line starts a moment later.
public final class RunningLine: Sendable {
    private struct State {
        var task: Task<LineOutcome, Never>?
        var interruptedBeforeStart = false
    }

    private let state = Mutex(State())

    public init() {}

    /// Cancels the line being run, or the one about to start.
    public func interrupt() {
        let running = state.withLock { state in
            if state.task == nil { state.interruptedBeforeStart = true }
            return state.task
        }
        running?.cancel()
    }

    /// Forgets a Ctrl-C that no line took: called before the next prompt.
    func forgetInterrupt() {
        state.withLock { $0.interruptedBeforeStart = false }
    }

    func run(_ body: @escaping @Sendable () async -> LineOutcome) async -> LineOutcome {
        let running = Task { await body() }
        let interrupted = state.withLock { state in
            state.task = running
            defer { state.interruptedBeforeStart = false }
            return state.interruptedBeforeStart
        }
        if interrupted { running.cancel() }
        defer { state.withLock { $0.task = nil } }
        return await running.value
    }
}

/// Set once the connection is gone while the prompt is up.
private final class LostFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

/// The read-eval-print loop on a terminal: banner, prompt, lines run one at a time, events shown
/// above the prompt as they arrive; with a retry policy, a lost connection is re-established in
/// the background while the prompt stays usable.
public final class InteractiveShell {
    private let connector: Connector
    private let runner: CommandRunner
    private let editor: LineEditor
    private let completer: Completer
    private let formatter: OutputFormatter
    private let banner: String
    private let running: RunningLine
    private let recorder: ScriptRecorder?
    /// Called with each line after it has run (what Tab learned from the server may have
    /// changed; a migration may have started).
    public var afterEachLine: (@Sendable (String) -> Void)?

    /// The runner's schema store, if any, is loaded for each connection just after the prompt
    /// appears, so Tab can complete arguments.
    public init(
        connector: Connector, runner: CommandRunner, editor: LineEditor, completer: Completer,
        formatter: OutputFormatter, banner: String, running: RunningLine, recorder: ScriptRecorder? = nil
    ) {
        self.connector = connector
        self.runner = runner
        self.editor = editor
        self.completer = completer
        self.formatter = formatter
        self.banner = banner
        self.running = running
        self.recorder = recorder
    }

    /// Runs until Ctrl-D, `.quit` or the connection is lost for good; returns the exit status.
    public func run() async -> ExitStatus {
        editor.print(banner)
        reportHistoryProblem()
        let connectionLost = LostFlag()
        let link = runner.link
        let printer = runner.printer
        let hmp = runner.configuration.hmp
        let connector = self.connector
        let completer = self.completer
        let editor = self.editor
        let formatter = self.formatter
        let schema = runner.schema
        let supervising = Task {
            await InteractiveShell.supervise(
                link: link, printer: printer, connector: connector, completer: completer, schema: schema,
                hmp: hmp, editor: editor, formatter: formatter, lost: connectionLost)
        }
        defer { supervising.cancel() }
        // The prompt says which server answers: QEMU, or its guest agent.
        let serverPrompt = link.client?.configuration.mode == .guestAgent ? "(QGA) " : "(QEMU) "
        while true {
            let prompt = runner.isInTransaction ? "TRANS> " : serverPrompt
            completer.setContinuingTransaction(runner.isInTransaction)
            running.forgetInterrupt()
            let input = await editor.readLine(prompt: prompt)
            reportHistoryProblem()
            if connectionLost.isSet { return .connection }
            switch input {
            case .endOfInput:
                return .success
            case .interrupted:
                runner.resetTransaction()
                recorder?.dropTransaction()
            case .line(let line):
                let outcome = await running.run { [runner] in await runner.run(line: line) }
                afterEachLine?(line)
                recorder?.note(line, outcome: outcome, inTransaction: runner.isInTransaction)
                // `quit` ends QEMU and so the session, as the user asked: a success, whether or
                // not the reply came before the connection closed.
                if link.quitRequested {
                    switch outcome {
                    case .success, .connectionLost: return .success
                    default: break
                    }
                }
                switch outcome {
                case .success, .commandError:
                    break  // a QMP error reply is already on screen
                case .failed(let message):
                    editor.print(formatter.error(message))
                case .quit:
                    return .success
                case .connectionLost(let message):
                    editor.print(formatter.error("qmp-shell: \(message)"))
                    // With --reconnect the supervisor brings the connection back; the prompt stays.
                    if connector.retryPolicy == nil {
                        editor.close()
                        return .connection
                    }
                }
            }
        }
    }

    /// The history file's first problem, once (it is written as each line is entered).
    private func reportHistoryProblem() {
        if let problem = editor.takeHistoryProblem() { editor.print(formatter.notice("qmp-shell: \(problem)")) }
    }

    /// For each connection: shows its events, learns its command names and schema, and when it
    /// ends, either reconnects (saying so above the prompt) or ends the shell.
    private static func supervise(
        link: ServerLink, printer: EventPrinter, connector: Connector, completer: Completer, schema: SchemaStore?,
        hmp: Bool, editor: LineEditor, formatter: OutputFormatter, lost: LostFlag
    ) async {
        let follower = ConnectionFollower(link: link, connector: connector)
        await follower.follow { client in
            let printing = Task { await printer.run() }
            let learning = Task {
                await learnCommandNames(client: client, completer: completer, hmp: hmp)
                schema?.startLoading()
            }
            let cause = await client.waitUntilDisconnected()
            learning.cancel()
            await printing.value
            return cause
        } change: { change in
            switch change {
            case .lost(let message):
                lost.set()
                editor.print(formatter.error(message))
                editor.close()
            case .reconnecting(let notice, _), .reconnected(let notice, _):
                editor.print(formatter.notice(notice))
            }
        }
    }

    /// Fetches command names for Tab after the first prompt is up, so start-up never waits.
    private static func learnCommandNames(client: QMPClient, completer: Completer, hmp: Bool) async {
        if hmp {
            let help = try? await client.execute("human-monitor-command", arguments: ["command-line": "help"])
            completer.setCommandNames(Completer.hmpNames(fromHelp: help?.stringValue ?? ""))
            let info = try? await client.execute("human-monitor-command", arguments: ["command-line": "help info"])
            completer.setInfoTopics(Completer.hmpNames(fromHelp: info?.stringValue ?? "", prefix: "info"))
        } else if client.configuration.mode == .guestAgent {
            let info = try? await client.execute("guest-info")
            let commands = info?["supported_commands"]?.arrayValue ?? []
            completer.setCommandNames(commands.filter { $0["enabled"] != false }.compactMap { $0["name"]?.stringValue })
        } else {
            let commands = try? await client.execute("query-commands")
            completer.setCommandNames(commands?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? [])
        }
    }
}
