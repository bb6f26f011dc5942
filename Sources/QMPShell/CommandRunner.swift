#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import QMP

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
/// It keeps the transaction state between lines and the event mark `.wait` counts from. It is not
/// safe for concurrent use: one task drives it at a time (the script runner, or the REPL, which
/// hands each line to a child task it awaits so Ctrl-C can cancel it). Hence `@unchecked Sendable`.
public final class CommandRunner: @unchecked Sendable {
    public let link: ServerLink
    public let configuration: ShellConfiguration
    public let printer: EventPrinter
    public let formatter: OutputFormatter
    public private(set) var parser = LineParser()
    /// Events after this mark count for `.wait`: taken before each command is sent, on the client
    /// it names (a new connection counts from its start).
    private var lastCommandMark: (client: QMPClient, mark: EventMark)?
    /// HMP's `cpu N`: the CPU later HMP commands address.
    private var cpuIndex: Int?
    /// Scripts being run, innermost last, to refuse a `.source` cycle.
    private var sourceStack: [String] = []

    /// `link` has no server for `--dry-run`.
    public init(link: ServerLink, configuration: ShellConfiguration, printer: EventPrinter, formatter: OutputFormatter) {
        self.link = link
        self.configuration = configuration
        self.printer = printer
        self.formatter = formatter
    }

    /// The client to use, `nil` in a dry run, or the outcome for a command while disconnected.
    private func currentClient() -> Result<QMPClient?, LineOutcomeError> {
        guard link.hasServer else { return .success(nil) }
        guard let client = link.client else { return .failure(LineOutcomeError(.failed(link.absence))) }
        return .success(client)
    }

    /// Where `.wait` starts counting on `client`.
    private func waitMark(on client: QMPClient) -> EventMark {
        guard let last = lastCommandMark, last.client === client else { return EventMark(sequence: 0) }
        return last.mark
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
        let parsed: [ParsedLine]
        do {
            parsed = try parser.parse(line)
        } catch {
            return .failed(error.description)
        }
        for item in parsed {
            let outcome: LineOutcome
            switch item {
            case .message(let message): outcome = await send(message)
            case .directive(let name, let text): outcome = await runDirective(name, text)
            }
            if outcome != .success { return outcome }
        }
        return .success
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
        lastCommandMark = (client, client.eventMark())
        do throws(QMPError) {
            let reply = try await client.request(message, passing: descriptors)
            if let error = reply.message["error"] {
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
            guard let index = Int(words[1]), index >= 0 else { return .failed("cpu: expected a CPU number, got '\(words[1])'") }
            cpuIndex = index
            return .success
        }
        var arguments: JSONObject = ["command-line": .string(command)]
        if let cpuIndex { arguments["cpu-index"] = .number(JSONNumber(cpuIndex)) }
        let message: JSONObject = ["execute": "human-monitor-command", "arguments": .object(arguments)]
        // HMP answers with text, shown as QEMU wrote it.
        return await send(message) { reply in
            reply["return"]?.stringValue.map { $0.hasSuffix("\n") || $0.isEmpty ? $0 : $0 + "\n" }
        }
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
            let topic = text.trimmingWhitespace()
            if topic.isEmpty {
                printer.printDiagnostic(Directive.overview)
            } else if let named = Directive(rawValue: topic.hasPrefix(".") ? String(topic.dropFirst()) : topic) {
                printer.printDiagnostic(named.usage + "\n")
            } else {
                return .failed(".help: no help for '\(topic)' (try .help for the directives)")
            }
            return .success
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

    /// `.add-fd PATH [key=value ...]` and `.getfd NAME PATH`: opens PATH (read-write, or read-only
    /// if that is all it allows) and passes it with the command over the UNIX socket.
    private func passFile(_ directive: Directive, _ text: String) async -> LineOutcome {
        let name = "." + directive.rawValue
        let parsed: DirectiveArguments
        do {
            parsed = try LineParser.parseArguments(text, directive: directive.rawValue, startColumn: name.count + 2)
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
        let message: JSONObject = arguments.isEmpty
            ? ["execute": .string(command)] : ["execute": .string(command), "arguments": .object(arguments)]
        // A dry run prints the message; nothing is opened.
        guard link.hasServer else { return await send(message) }
        var descriptor = open(path, O_RDWR | O_CLOEXEC)
        if descriptor < 0 && (errno == EACCES || errno == EROFS || errno == EISDIR) {
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
        }
        guard descriptor >= 0 else { return .failed("\(name): cannot open \(path): \(String(cString: strerror(errno)))") }
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
        let predicate: @Sendable (QMPEvent) -> Bool = { $0.name == name && $0.dataMatches(matching) }
        do throws(QMPError) {
            let event = try await client.waitForEvent(since: waitMark(on: client), timeout: timeout, where: predicate)
            printer.printResult(formatter.json(event.message))
            // The next .wait looks for a later event, not the same one again.
            lastCommandMark = (client, EventMark(sequence: event.sequence))
            return .success
        } catch .timedOut {
            if Task.isCancelled { return .failed(".wait: interrupted") }
            let filter = conditions.isEmpty ? "" : " with " + conditions.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
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
        while let line = await source.nextLine() {
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
            return .failed(".source: \(path) is already being run (a cycle: \((sourceStack + [canonical]).joined(separator: " → ")))")
        }
        var lines: ArrayLineSource
        do {
            lines = try ArrayLineSource(contentsOf: path)
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

extension StringProtocol {
    /// The text without leading and trailing whitespace.
    func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
