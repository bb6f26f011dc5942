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
    public private(set) var parser = LineParser()
    /// The events `.wait` matched on the client it names, by sequence number: each event is
    /// consumed once (a new connection starts with none).
    private var consumed: (client: QMPClient, sequences: Set<UInt64>)?
    /// HMP's `cpu N`: the CPU later HMP commands address.
    private var cpuIndex: Int?
    /// Scripts being run, innermost last, to refuse a `.source` cycle.
    private var sourceStack: [String] = []
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

    /// The client to use, `nil` in a dry run, or the outcome for a command while disconnected.
    private func currentClient() -> Result<QMPClient?, LineOutcomeError> {
        guard link.hasServer else { return .success(nil) }
        guard let client = link.client else { return .failure(LineOutcomeError(.failed(link.absence))) }
        return .success(client)
    }

    /// The sequence numbers of the events `.wait` consumed on `client`.
    private func consumedEvents(on client: QMPClient) -> Set<UInt64> {
        guard let consumed, consumed.client === client else { return [] }
        return consumed.sequences
    }

    /// Notes that `.wait` matched `event` on `client`. Only events still in the client's history
    /// can match again, so older ones are forgotten: the set stays as small as the history.
    private func consume(_ event: QMPEvent, on client: QMPClient) {
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
        if configuration.hmp, !line.drop(while: \.isWhitespace).hasPrefix(".") {
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
                    let problem = SchemaValidator(schema: lineSchema).problem(
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
        let text = line.drop(while: \.isWhitespace)
        let inTransaction = parser.isInTransaction
        guard let store = schema, let first = text.first, inTransaction || !"#{[.".contains(first) else { return nil }
        // Without an `=` there is no `key=value` to type: replaying plain commands skips a
        // tokenization per line.
        let typed =
            line.utf8.contains(UInt8(ascii: "="))
            ? SchemaValueTyping.typedValues(ofLine: line, inTransaction: inTransaction) : [:]
        let needed = inTransaction || text.hasPrefix("transaction(") || !typed.isEmpty || store.current != nil
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
        let client: QMPClient
        switch currentClient() {
        case .failure(let absent): return absent.outcome
        case .success(nil):
            printer.printResult(formatter.json(message))
            return .success
        case .success(let connected?): client = connected
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
                printer.printReply(formatter.json(reply.message), after: reply.eventMark)
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

    // MARK: - HMP

    private func runHMP(_ line: String) async -> LineOutcome {
        let command = line.trimmingWhitespace()
        if command.isEmpty || command.hasPrefix("#") { return .success }
        let words = command.split(separator: " ", omittingEmptySubsequences: true)
        if words.count == 2, words[0] == "cpu" {
            guard let index = Int(words[1]), index >= 0 else {
                return .failed("cpu: expected a CPU number, got '\(words[1])'")
            }
            if let refused = await refusal(ofCPU: index) { return refused }
            cpuIndex = index
            return .success
        }
        var arguments: JSONObject = ["command-line": .string(command)]
        if let cpuIndex { arguments["cpu-index"] = .number(JSONNumber(cpuIndex)) }
        let message: JSONObject = ["execute": "human-monitor-command", "arguments": .object(arguments)]
        var hmpError: String?
        // HMP answers with text, shown once as QEMU wrote it (its lines end with "\r\n"), or
        // reported as the line's failure when it is one of HMP's error replies.
        let outcome = await send(message) { reply in
            guard let text = reply["return"]?.stringValue else { return nil }
            if let error = HMPReply.error(in: text) {
                hmpError = error
                return nil
            }
            // Its lines as they are; no other control characters (the server's text, for a terminal).
            let shown = text.escapingControlCharacters(keepingLines: true)
            return shown.isEmpty || shown.last?.isNewline == true ? shown : shown + "\n"
        }
        if outcome == .success, let hmpError { return .failed(hmpError) }
        return outcome
    }

    /// Why `cpu INDEX` is refused: the machine has no such CPU (from `query-cpus-fast`, as the
    /// peer checks at once), so that later lines are not all refused by QEMU instead. `nil` when
    /// the CPU exists, in a dry run, or when the server cannot list its CPUs (QEMU before 2.12
    /// then judges each line itself).
    private func refusal(ofCPU index: Int) async -> LineOutcome? {
        let client: QMPClient
        switch currentClient() {
        case .failure(let absent): return absent.outcome
        case .success(nil): return nil
        case .success(let connected?): client = connected
        }
        let cpus: [JSONValue]
        do throws(QMPError) {
            cpus = try await client.execute("query-cpus-fast", timeout: configuration.commandTimeout).arrayValue ?? []
        } catch {
            if case .commandFailed = error { return nil }
            return Self.outcome(of: error)
        }
        let indices = cpus.compactMap { $0["cpu-index"]?.intValue }.sorted()
        if indices.contains(index) { return nil }
        let known =
            indices.isEmpty ? "this machine has no CPU" : "CPUs: \(indices.map(String.init).joined(separator: ", "))"
        return .failed("cpu: there is no CPU \(index) (\(known))")
    }

    // MARK: - Directives

    private func runDirective(_ name: String, _ text: String) async -> LineOutcome {
        guard let directive = Directive(rawValue: name) else {
            return .failed("unknown directive '.\(name)' (.help lists them)")
        }
        switch directive {
        case .quit:
            return .quit
        case .echo:
            printer.printDiagnostic(text + "\n")
            return .success
        case .help:
            return await help(text.trimmingWhitespace())
        case .sleep:
            guard let seconds = Double(text.trimmingWhitespace()), seconds >= 0, seconds.isFinite else {
                return .failed(".sleep: expected a number of seconds, got '\(text)'")
            }
            try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            return .success
        case .wait:
            return await wait(text)
        case .source:
            let path = text.trimmingWhitespace()
            guard !path.isEmpty else { return .failed(".source: expected a file name") }
            return await source(path)
        case .addFD, .getFD:
            return await passFile(directive, text)
        }
    }

    /// `.help`, `.help .DIRECTIVE`, `.help COMMAND [tag=value ...]` or `.help EVENT`. A name that
    /// is both a QMP command and a directive (`quit`, `getfd`) is the command; `.help .quit` is
    /// the directive.
    private func help(_ topic: String) async -> LineOutcome {
        if topic.isEmpty {
            printer.printDiagnostic(Directive.overview)
            return .success
        }
        let parsed: DirectiveArguments
        do {
            parsed = try LineParser.parseArguments(topic, directive: "help", startColumn: 7)
        } catch {
            return .failed(".help: \(error.description)")
        }
        guard let name = parsed.words.first, parsed.words.count == 1 else {
            return .failed(".help: expected one name, then tag=value words that pick union variants")
        }
        if name.hasPrefix("."), let directive = Directive(rawValue: String(name.dropFirst())) {
            printer.printDiagnostic(directive.usage + "\n")
            return .success
        }
        let loaded = link.hasServer && !configuration.hmp ? await schema?.schema() : nil
        var selection = TypedValues()
        for (path, value) in Self.flatten(parsed.arguments) { selection[path] = value }
        if let loaded, var text = SchemaHelp(schema: loaded).text(for: name, selection: selection) {
            if Directive(rawValue: name) != nil { text += "(.help .\(name) for the directive)\n" }
            // Names and enum values are the server's text: each line escaped for the terminal.
            printer.printDiagnostic(
                text.split(separator: "\n", omittingEmptySubsequences: false)
                    .map { String($0).escapingControlCharacters }.joined(separator: "\n"))
            return .success
        }
        if let directive = Directive(rawValue: name) {
            printer.printDiagnostic(directive.usage + "\n")
            return .success
        }
        let known = Directive.allCases.map(\.rawValue) + (loaded.map { $0.commandNames + $0.eventNames } ?? [])
        return .failed(
            ".help: no command, event or directive '\(name)'" + Suggestion.clause(for: name, among: known)
                + (loaded == nil ? " (without the server's schema, only directives have help)" : ""))
    }

    /// The leaves of `object` by key path, as text: what `key=value` words said.
    private static func flatten(_ object: JSONObject, path: [String] = []) -> [([String], String)] {
        object.flatMap { member -> [([String], String)] in
            switch member.value {
            case .object(let nested): return flatten(nested, path: path + [member.key])
            case .string(let text): return [(path + [member.key], text)]
            default: return [(path + [member.key], member.value.serialized())]
            }
        }
    }

    /// `.add-fd PATH [key=value ...]` and `.getfd NAME PATH`: opens PATH (read-write, or read-only
    /// if that is all it allows) and passes it with the command over the UNIX socket.
    private func passFile(_ directive: Directive, _ text: String) async -> LineOutcome {
        let name = "." + directive.rawValue
        // `.add-fd`'s key=value arguments are add-fd's: typed by its schema (`opaque=7` is "7").
        var typing: any ValueTyping = ValueSyntax()
        if directive == .addFD, text.contains("="), link.hasServer, let loaded = await schema?.schema() {
            typing = SchemaValueTyping(schema: loaded, checks: configuration.schemaChecks, line: text)
        }
        let parsed: DirectiveArguments
        do {
            parsed = try LineParser.parseArguments(
                text, directive: directive.rawValue, startColumn: name.count + 2, valueTyping: typing)
        } catch {
            return .failed("\(name): \(error.description)")
        }
        var arguments = parsed.arguments
        let path: String
        let command: String
        switch (directive, parsed.words.count) {
        case (.addFD, 1):
            path = parsed.words[0]
            command = "add-fd"
        case (.getFD, 2) where parsed.arguments.isEmpty:
            arguments["fdname"] = .string(parsed.words[0])
            path = parsed.words[1]
            command = "getfd"
        default:
            return .failed("usage: \(directive.usage)")
        }
        let message: JSONObject =
            arguments.isEmpty
            ? ["execute": .string(command)] : ["execute": .string(command), "arguments": .object(arguments)]
        // A dry run prints the message; nothing is opened.
        guard link.hasServer else { return await send(message) }
        var descriptor = open(path, O_RDWR | O_CLOEXEC)
        if descriptor < 0 && (errno == EACCES || errno == EROFS || errno == EISDIR) {
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
        }
        guard descriptor >= 0 else { return .failed("\(name): cannot open \(path): \(errnoText())") }
        // QEMU holds its own copy once it has received it.
        defer { close(descriptor) }
        return await send(message, passing: [descriptor])
    }

    private func wait(_ text: String) async -> LineOutcome {
        let parsed: DirectiveArguments
        do {
            parsed = try LineParser.parseArguments(text, directive: "wait", startColumn: 7)
        } catch {
            return .failed(".wait: \(error.description)")
        }
        guard parsed.words.count == 1, let name = parsed.words.first else {
            return .failed(".wait: expected one event name, then key=value conditions, got '\(text)'")
        }
        var conditions = parsed.arguments
        var timeout: Duration = .seconds(30)
        if let value = conditions["timeout"] {
            guard let seconds = value.numberValue?.doubleValue, seconds > 0, seconds.isFinite else {
                return .failed(".wait: timeout must be a positive number of seconds")
            }
            timeout = .milliseconds(Int(seconds * 1000))
            conditions["timeout"] = nil
        }
        let client: QMPClient
        switch currentClient() {
        case .failure(let absent): return absent.outcome
        case .success(nil):
            printer.printDiagnostic(".wait \(name): needs a server; not run in --dry-run\n")
            return .success
        case .success(let connected?): client = connected
        }
        let matching = conditions
        let consumed = consumedEvents(on: client)
        let predicate: @Sendable (QMPEvent) -> Bool = {
            $0.name == name && !consumed.contains($0.sequence) && $0.dataMatches(matching)
        }
        do throws(QMPError) {
            // Any event still in the history counts, however long ago it came, unless an earlier
            // .wait consumed it (as QEMU's iotests `event_wait` takes events from what it has
            // received): a command between starting a job and waiting for it cannot hide the event.
            let event = try await client.waitForEvent(since: EventMark(sequence: 0), timeout: timeout, where: predicate)
            consume(event, on: client)
            printer.printMatched(event, from: client)
            return .success
        } catch .timedOut {
            if Task.isCancelled { return .failed(".wait: interrupted") }
            let filter =
                conditions.isEmpty ? "" : " with " + conditions.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            return .failed(".wait: no \(name)\(filter) within \(timeout.secondsText)")
        } catch {
            return Self.outcome(of: error)
        }
    }

    // MARK: - Scripts

    /// How a script run ended.
    public enum ScriptOutcome: Sendable, Equatable {
        /// Every line ran; `failures` of them failed (with `--keep-going`).
        case completed(failures: Int)
        /// A line failed and the run stopped there.
        case stopped
        /// `.quit`.
        case quit
        /// The connection is gone.
        case connectionLost(String)
    }

    /// Runs lines from `source`, naming failures `NAME:LINE: message` on the diagnostic stream.
    /// `file` is the script's path when it is a file, so a `.source` of it from inside is a cycle.
    public func runScript(named name: String, from source: inout some LineSource, file: String? = nil) async
        -> ScriptOutcome
    {
        if let file {
            sourceStack.append(Self.canonicalPath(file))
        }
        defer { if file != nil { sourceStack.removeLast() } }
        var lineNumber = 0
        var failures = 0
        var transactionStart = 0
        while true {
            let line: String
            do {
                guard let next = try await source.nextLine() else { break }
                line = next
            } catch {
                // The rest of the script cannot be read, so not even --keep-going can go on.
                printer.printDiagnostic(formatter.error("\(name):\(lineNumber + 1): \(error)"))
                return .stopped
            }
            lineNumber += 1
            let wasInTransaction = parser.isInTransaction
            let outcome = await run(line: line)
            if !wasInTransaction && parser.isInTransaction { transactionStart = lineNumber }
            switch outcome {
            case .success:
                continue
            case .quit:
                return .quit
            case .connectionLost(let message):
                return .connectionLost(message)
            case .failed(let message), .commandError(let message):
                printer.printDiagnostic(formatter.error("\(name):\(lineNumber): \(message)"))
                failures += 1
                if !configuration.keepGoing { return .stopped }
            }
        }
        if parser.isInTransaction {
            parser.reset()
            printer.printDiagnostic(formatter.error("\(name):\(transactionStart): transaction( is never closed with )"))
            failures += 1
            if !configuration.keepGoing { return .stopped }
        }
        return .completed(failures: failures)
    }

    private func source(_ path: String) async -> LineOutcome {
        let canonical = Self.canonicalPath(path)
        if sourceStack.contains(canonical) {
            return .failed(
                ".source: \(path) is already being run (a cycle: \((sourceStack + [canonical]).joined(separator: " → ")))"
            )
        }
        var lines: FileLineSource
        do {
            lines = try FileLineSource(path: path)
        } catch {
            return .failed(".source: \(error.description)")
        }
        // The sourced file's lines run with their own transaction state.
        let outerParser = parser
        parser = LineParser(valueTyping: outerParser.valueTyping)
        defer { parser = outerParser }
        switch await runScript(named: path, from: &lines, file: path) {
        case .completed(let failures):
            return failures == 0 ? .success : .failed(".source \(path): \(failures) line(s) failed")
        case .stopped: return .failed(".source \(path) stopped at a failure")
        case .quit: return .quit
        case .connectionLost(let message): return .connectionLost(message)
        }
    }
}

/// A line's outcome carried as an error, for the "no client now" path.
struct LineOutcomeError: Error {
    let outcome: LineOutcome
    init(_ outcome: LineOutcome) { self.outcome = outcome }
}

extension CommandRunner {
    /// The absolute path without symbolic links, or `path` itself if it cannot be resolved.
    static func canonicalPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
