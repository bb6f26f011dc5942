import Glibc
import QMP
import QMPLineSyntax
import QMPSchema
import ShellSystem

/// The directives (`.wait`, `.help`, `.add-fd`, ...): lines the shell runs itself.
extension CommandRunner {
    func runDirective(_ name: String, _ text: String) async -> LineOutcome {
        guard let directive = Directive(rawValue: name) else {
            return .failed("unknown directive '.\(name)' (.help lists them)")
        }
        // The directives' helpers throw the line's outcome when it cannot go on (a bad argument,
        // no server now): it is returned here, once for all of them.
        do throws(LineOutcomeError) {
            return try await run(directive, text)
        } catch {
            return error.outcome
        }
    }

    private func run(_ directive: Directive, _ text: String) async throws(LineOutcomeError) -> LineOutcome {
        switch directive {
        case .quit:
            return .quit
        case .echo:
            printer.printDiagnostic(text + "\n")
            return .success
        case .help:
            return try await help(text.trimmingWhitespace())
        case .sleep:
            guard let seconds = Double(text.trimmingWhitespace()), seconds >= 0, seconds.isFinite else {
                return .failed(".sleep: expected a number of seconds, got '\(text)'")
            }
            try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            return .success
        case .wait:
            return try await wait(text)
        case .source:
            let path = text.trimmingWhitespace()
            guard !path.isEmpty else { return .failed(".source: expected a file name") }
            return await source(path)
        case .addFD, .getFD:
            return try await passFile(directive, text)
        case .qomTree:
            return try await qomTree(text)
        case .job:
            return try await job(text)
        case .jobs:
            return try await jobs(text)
        }
    }

    /// A directive's words and `key=value` arguments; throws the failure that names the directive
    /// and the column of the problem.
    func arguments(
        of directive: Directive, _ text: String, valueTyping: any ValueTyping = ValueSyntax()
    ) throws(LineOutcomeError) -> DirectiveArguments {
        do {
            // Columns count from the line's start: the dot, the name and a space come first.
            return try LineParser.parseArguments(
                text, directive: directive.rawValue, startColumn: directive.rawValue.count + 3,
                valueTyping: valueTyping)
        } catch {
            throw LineOutcomeError(.failed(".\(directive.rawValue): \(error.description)"))
        }
    }

    /// The time a `timeout=SECONDS` argument gives; throws the failure when it is not a positive
    /// number.
    static func timeout(_ value: JSONValue, of directive: Directive) throws(LineOutcomeError) -> Duration {
        guard let seconds = value.numberValue?.doubleValue, seconds > 0, seconds.isFinite else {
            throw LineOutcomeError(.failed(".\(directive.rawValue): timeout must be a positive number of seconds"))
        }
        return .milliseconds(Int(seconds * 1000))
    }

    /// The client for a directive that needs a server. Throws, in a dry run, a success after a
    /// note that the directive did not run, or the failure of a shell without a connection now.
    func serverClient(for directive: String) throws(LineOutcomeError) -> QMPClient {
        guard let client = try currentClient() else {
            printer.printDiagnostic("\(directive): needs a server; not run in --dry-run\n")
            throw LineOutcomeError(.success)
        }
        return client
    }

    /// `.help`, `.help .DIRECTIVE`, `.help COMMAND [tag=value ...]` or `.help EVENT`. A name that
    /// is both a QMP command and a directive (`quit`, `getfd`) is the command; `.help .quit` is
    /// the directive.
    func help(_ topic: String) async throws(LineOutcomeError) -> LineOutcome {
        if topic.isEmpty {
            printer.printDiagnostic(Directive.overview)
            return .success
        }
        let parsed = try arguments(of: .help, topic)
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
    static func flatten(_ object: JSONObject, path: [String] = []) -> [([String], String)] {
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
    func passFile(_ directive: Directive, _ text: String) async throws(LineOutcomeError) -> LineOutcome {
        let name = "." + directive.rawValue
        // `.add-fd`'s key=value arguments are add-fd's: typed by its schema (`opaque=7` is "7").
        var typing: any ValueTyping = ValueSyntax()
        if directive == .addFD, text.contains("="), link.hasServer, let loaded = await schema?.schema() {
            typing = SchemaValueTyping(schema: loaded, checks: configuration.schemaChecks, line: text)
        }
        let parsed = try arguments(of: directive, text, valueTyping: typing)
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

    func wait(_ text: String) async throws(LineOutcomeError) -> LineOutcome {
        let parsed = try arguments(of: .wait, text)
        guard parsed.words.count == 1, let name = parsed.words.first else {
            return .failed(".wait: expected one event name, then key=value conditions, got '\(text)'")
        }
        if let unknown = await unknownEvent(name) { return .failed(".wait: " + unknown) }
        var conditions = parsed.arguments
        var timeout: Duration = .seconds(30)
        if let value = conditions["timeout"] {
            timeout = try Self.timeout(value, of: .wait)
            conditions["timeout"] = nil
        }
        let client = try serverClient(for: ".wait \(name)")
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

}
