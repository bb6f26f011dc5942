import QMPSchema
import ShellSystem
import Glibc
import QMP
import QMPLineSyntax

/// How running a line ended.
public enum LineOutcome: Sendable, Equatable {
    case success
    /// A line that did not parse, a `.wait` timeout: exit status 1.
    case failed(String)
    /// QEMU answered with an error; the error reply was already shown. Exit status 1.
    case commandError(String)
    /// `.quit`.
    case quit
    /// The connection is gone: exit status 3.
    case connectionLost(String)
}

/// Runs lines: parses them, sends messages, runs directives, shows what comes back.
///
/// It keeps the transaction state between lines and the events `.wait` has consumed. It is not
/// safe for concurrent use: one task drives it at a time (the script runner, or the REPL, which
/// hands each line to a child task it awaits so Ctrl-C can cancel it). Hence `@unchecked Sendable`.
public final class CommandRunner: @unchecked Sendable {
    public let link: ServerLink
    public let configuration: ShellConfiguration
    public let printer: EventPrinter
    public let formatter: OutputFormatter
    public internal(set) var parser = LineParser()
    /// The events `.wait` matched on the client it names, by sequence number: each event is
    /// consumed once (a new connection starts with none).
    var consumed: (client: QMPClient, sequences: Set<UInt64>)?
    /// HMP's `cpu N`: the CPU later HMP commands address.
    var cpuIndex: Int?
    /// Scripts being run, innermost last, to refuse a `.source` cycle.
    var sourceStack: [String] = []
    /// The server's schema, which types and checks arguments and answers `.help COMMAND`; `nil`
    /// for the shell's syntax rules alone (dry run, HMP, guest agent).
    public let schema: SchemaStore?

    /// `link` has no server for `--dry-run`.
    public init(
        link: ServerLink, configuration: ShellConfiguration, printer: EventPrinter, formatter: OutputFormatter,
        schema: SchemaStore? = nil
    ) {
        self.link = link
        self.configuration = configuration
        self.printer = printer
        self.formatter = formatter
        self.schema = schema
    }

    /// The client to use, `nil` in a dry run; throws the outcome for a command while disconnected.
    func currentClient() throws(LineOutcomeError) -> QMPClient? {
        guard link.hasServer else { return nil }
        guard let client = link.client else { throw LineOutcomeError(.failed(link.absence)) }
        return client
    }

    /// The sequence numbers of the events `.wait` consumed on `client`.
    func consumedEvents(on client: QMPClient) -> Set<UInt64> {
        guard let consumed, consumed.client === client else { return [] }
        return consumed.sequences
    }

    /// Notes that `.wait` matched `event` on `client`. Only events still in the client's history
    /// can match again, so older ones are forgotten: the set stays as small as the history.
    func consume(_ event: QMPEvent, on client: QMPClient) {
        var sequences = consumedEvents(on: client)
        sequences.insert(event.sequence)
        let limit = UInt64(client.configuration.historyLimit)
        if sequences.count > Int(limit), event.sequence > limit {
            sequences = sequences.filter { $0 > event.sequence - limit }
        }
        consumed = (client, sequences)
    }

    /// Whether a `transaction(` is waiting for its `)`.
    public var isInTransaction: Bool { parser.isInTransaction }

    /// Drops a half-typed transaction (Ctrl-C).
    public func resetTransaction() { parser.reset() }

    // MARK: - One line

    /// Runs one line and reports how it ended. Errors are described in the outcome, not printed.
    public func run(line: String) async -> LineOutcome {
        if configuration.hmp, LineStart(of: line).firstByte != UInt8(ascii: ".") {
            return await runHMP(line)
        }
        let lineSchema = await prepareTyping(for: line)
        let parsed: [ParsedLine]
        do {
            parsed = try parser.parse(line)
        } catch {
            return .failed(error.description)
        }
        for item in parsed {
            let outcome: LineOutcome
            switch item {
            case .message(let message):
                if let lineSchema, configuration.schemaChecks, let command = message["execute"]?.stringValue,
                    let problem = Self.unknownCommand(command, in: lineSchema)
                        ?? SchemaValidator(schema: lineSchema).problem(
                            command: command, arguments: message["arguments"]?.objectValue ?? [:])
                {
                    return .failed(problem)
                }
                outcome = await send(message)
            case .directive(let name, let text): outcome = await runDirective(name, text)
            }
            if outcome != .success { return outcome }
        }
        return .success
    }

    /// Makes the parser type `line`'s arguments by the schema; returns the schema to check the
    /// line's message with, or `nil` for the syntax rules and no check.
    ///
    /// The schema is awaited (loaded the first time) for a command with `key=value` arguments and
    /// for the lines of a transaction. A command without arguments does not wait for it (QEMU
    /// checks what is missing itself, and a script of plain commands never pays for the schema),
    /// but is checked once the schema is there. Raw JSON lines, comments and directives are never
    /// checked.
    private func prepareTyping(for line: String) async -> QMPSchema? {
        parser.valueTyping = ValueSyntax()
        let text = LineStart(of: line).text
        let inTransaction = parser.isInTransaction
        guard let store = schema, let first = text.utf8.first, inTransaction || !"#{[.".utf8.contains(first) else {
            return nil
        }
        // Without an `=` there is no `key=value` to type: replaying plain commands skips a
        // tokenization per line.
        let typed =
            line.utf8.contains(UInt8(ascii: "="))
            ? SchemaValueTyping.typedValues(ofLine: line, inTransaction: inTransaction) : [:]
        let needed =
            inTransaction || text.utf8.starts(with: "transaction(".utf8) || !typed.isEmpty || store.current != nil
        guard needed, let loaded = await store.schema() else { return nil }
        var properties: [DeviceCatalog.Property] = []
        if let driver = typed[.command("device_add")]?[["driver"]] {
            properties = await store.devices?.properties(of: driver) ?? []
        }
        parser.valueTyping = SchemaValueTyping(
            schema: loaded, checks: configuration.schemaChecks, line: line, inTransaction: inTransaction,
            deviceProperties: properties)
        return loaded
    }

    /// Sends a message (with file descriptors, for `.add-fd`/`.getfd`) and shows its reply (errors
    /// included) in wire order with events; `text` may render a successful reply otherwise (HMP).
    func send(
        _ message: JSONObject, passing descriptors: [Int32] = [], text: ((JSONObject) -> String?)? = nil
    ) async -> LineOutcome {
        let connected: QMPClient?
        do throws(LineOutcomeError) { connected = try currentClient() } catch { return error.outcome }
        guard let client = connected else {
            printer.printResult(formatter.json(message))
            return .success
        }
        if configuration.verbose { printer.printDiagnostic(formatter.json(message)) }
        // Before sending: the server may close the connection before its reply is read.
        let quitting = message["execute"] == "quit" && client.configuration.mode == .qmp
        if quitting {
            link.noteQuit(true)
            if let notice = configuration.quitNotice { printer.printDiagnostic(formatter.notice(notice)) }
        }
        do throws(QMPError) {
            let reply = try await client.request(message, passing: descriptors, timeout: configuration.commandTimeout)
            if let error = reply.message["error"] {
                if quitting { link.noteQuit(false) }
                printer.printReply(formatter.reply(reply.message), after: reply.eventMark)
                return .commandError("\(error["class"]?.stringValue ?? "Error"): \(error["desc"]?.stringValue ?? "")")
            }
            if let text {
                if let shown = text(reply.message), !shown.isEmpty { printer.printReply(shown, after: reply.eventMark) }
            } else if !reply.message.isEmpty {
                // Guest-agent commands that never reply come back empty: nothing to show.
                printer.printReply(formatter.json(reply.message), after: reply.eventMark)
            }
            return .success
        } catch .disconnected where quitting {
            // QEMU went away before its reply could be read (libvirt loses it every time): what
            // `quit` asked for happened.
            return .success
        } catch {
            return Self.outcome(of: error)
        }
    }

    static func outcome(of error: QMPError) -> LineOutcome {
        switch error {
        case .disconnected, .protocolViolation: return .connectionLost(error.description)
        default: return .failed(error.description)
        }
    }
}

/// A line's outcome carried as an error: what the runner's helpers throw when a line cannot go on
/// (no client now, a directive's bad argument), caught once where the line's outcome is returned.
struct LineOutcomeError: Error {
    let outcome: LineOutcome
    init(_ outcome: LineOutcome) { self.outcome = outcome }
}
