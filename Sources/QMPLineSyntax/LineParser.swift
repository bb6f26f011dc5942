import QMP

/// What one input line amounts to, once complete.
public enum ParsedLine: Sendable, Equatable {
    /// A complete QMP message to send: `{"execute": NAME, "arguments": {...}}`, with `arguments`
    /// omitted when there are none; or a raw `{...}` line exactly as written.
    case message(JSONObject)
    /// A shell directive: `.wait JOB id=j0` is name `wait`, argumentText `JOB id=j0` (trimmed).
    /// ``LineParser/parseArguments(_:directive:startColumn:valueTyping:)`` parses the text if the
    /// directive takes `key=value` arguments.
    case directive(name: String, argumentText: String)
}

/// The positional words and `key=value` arguments of a directive, in the order typed.
public struct DirectiveArguments: Sendable, Equatable {
    /// Tokens without `=`, quotes removed: `["JOB_STATUS_CHANGE"]` for `.wait JOB_STATUS_CHANGE id=j0`.
    public var words: [String]
    /// The `key=value` arguments, typed and nested like a command's.
    public var arguments: JSONObject

    public init(words: [String] = [], arguments: JSONObject = JSONObject()) {
        self.words = words
        self.arguments = arguments
    }
}

/// Parses what the user types into QMP messages and directives.
///
/// It is stateful only across the lines of a transaction: `transaction(` opens one, each bare word
/// starts an action (on the same line or later ones), `)` closes it and yields one `transaction`
/// message. A line with an error inside a transaction is dropped alone; the actions before it stay.
public struct LineParser: Sendable {
    /// How `key=value` texts become JSON values; replace it once the schema is known.
    public var valueTyping: any ValueTyping

    /// The actions of the open transaction, or `nil` outside one.
    private var openTransaction: [TransactionAction]?

    /// Whether a `transaction(` is open and waiting for its `)` (the shell prompts `TRANS> `).
    public var isInTransaction: Bool { openTransaction != nil }

    public init(valueTyping: any ValueTyping = ValueSyntax()) {
        self.valueTyping = valueTyping
    }

    /// Forgets a half-built transaction (Ctrl-C).
    public mutating func reset() {
        openTransaction = nil
    }

    /// Parses one line. Returns `[]` for blank and `#` comment lines and for the lines of a
    /// transaction before its `)`, otherwise the message or directive the line completes.
    public mutating func parse(_ line: String) throws(LineParseError) -> [ParsedLine] {
        let start = LineStart(of: line)
        guard let first = start.firstByte else { return [] }
        let column = start.column
        switch first {
        case UInt8(ascii: "#"):
            return []
        case UInt8(ascii: "."):
            let directive = try Self.directive(start.text, column: column)
            if isInTransaction, case .directive(let name, _) = directive {
                throw LineParseError(
                    column: column, message: "directive '.\(name)' inside a transaction; close it with ')' first")
            }
            return [directive]
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            return [try rawMessage(line, column: column)]
        default:
            break
        }
        let tokens = try ArgumentTokenizer.tokenize(line)
        // Work on a copy so that a line with an error changes nothing.
        if var actions = openTransaction {
            let closed = try addTransactionTokens(tokens[...], to: &actions)
            openTransaction = closed ? nil : actions
            return closed ? [.message(Self.transactionMessage(actions))] : []
        }
        guard let command = tokens.first else { return [] }
        switch command.kind {
        case .word(let word) where !word.wasQuoted && word.text == "transaction(":
            var actions: [TransactionAction] = []
            if try addTransactionTokens(tokens.dropFirst(), to: &actions) {
                return [.message(Self.transactionMessage(actions))]
            }
            openTransaction = actions
            return []
        case .word(let word) where !word.wasQuoted && word.text == ")":
            throw LineParseError(column: command.column, message: "')' without an open 'transaction('")
        case .word(let word):
            var arguments = ArgumentsBuilder(depth: ArgumentsBuilder.commandArgumentsDepth)
            for token in tokens.dropFirst() {
                guard case .argument(let argument) = token.kind else {
                    throw LineParseError(column: token.column, message: "expected key=value, found '\(token.raw)'")
                }
                try arguments.add(argument, value: valueTyping.value(of: argument, in: .command(word.text)))
            }
            var message: JSONObject = ["execute": .string(word.text)]
            if !arguments.isEmpty { message["arguments"] = .object(arguments.object) }
            return [.message(message)]
        case .argument:
            throw LineParseError(column: command.column, message: "expected a command name, found '\(command.raw)'")
        }
    }

    /// Parses the argument text of a directive with the rules of command arguments.
    ///
    /// - Parameters:
    ///   - text: the ``ParsedLine/directive(name:argumentText:)`` argument text.
    ///   - directive: the directive's name, passed to `valueTyping` as ``ArgumentOwner/directive(_:)``.
    ///   - startColumn: the column of `text` in its line, so that errors point into the line.
    public static func parseArguments(
        _ text: String, directive: String, startColumn: Int = 1, valueTyping: any ValueTyping = ValueSyntax()
    ) throws(LineParseError) -> DirectiveArguments {
        var result = DirectiveArguments()
        var arguments = ArgumentsBuilder(depth: 1)
        for token in try ArgumentTokenizer.tokenize(text, firstColumn: startColumn) {
            switch token.kind {
            case .word(let word):
                result.words.append(word.text)
            case .argument(let argument):
                try arguments.add(argument, value: valueTyping.value(of: argument, in: .directive(directive)))
            }
        }
        result.arguments = arguments.object
        return result
    }

    // MARK: - Pieces

    /// Splits `.name rest` (starting at the dot, at `column`).
    private static func directive(_ text: Substring, column: Int) throws(LineParseError) -> ParsedLine {
        let afterDot = text.dropFirst()
        let name = afterDot.prefix(while: { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
        let rest = afterDot.dropFirst(name.count)
        if let next = rest.first, !next.isWhitespace {
            let word = text.prefix(while: { !$0.isWhitespace })
            throw LineParseError(
                column: column + 1 + name.count, message: "invalid character '\(next)' in directive name '\(word)'")
        }
        guard !name.isEmpty else {
            throw LineParseError(column: column, message: "expected a directive name after '.'")
        }
        var argumentText = rest.drop(while: \.isWhitespace)
        while argumentText.last?.isWhitespace == true { argumentText.removeLast() }
        return .directive(name: String(name), argumentText: String(argumentText))
    }

    /// A line starting with `{` (or, mistakenly, `[`): a QMP message written as JSON.
    private func rawMessage(_ line: String, column: Int) throws(LineParseError) -> ParsedLine {
        if isInTransaction {
            throw LineParseError(
                column: column, message: "raw JSON message inside a transaction; close it with ')' first")
        }
        let value: JSONValue
        do throws(JSONParseError) {
            // QEMU's parser takes single-quoted strings too (its documentation writes them); the
            // message is sent as standard JSON all the same.
            value = try JSONParser.parse(line, singleQuotes: true)
        } catch {
            throw LineParseError(
                column: LineParseError.column(ofUTF8Offset: error.offset, in: line, startColumn: 1),
                message: "invalid JSON message: \(error.reason)")
        }
        guard case .object(let object) = value else {
            throw LineParseError(column: column, message: "a raw QMP message must be a JSON object, found an array")
        }
        return .message(object)
    }

    /// One action of an open transaction.
    private struct TransactionAction: Sendable {
        var type: String
        var data = ArgumentsBuilder(depth: ArgumentsBuilder.transactionDataDepth)
    }

    /// Adds the tokens of a line inside a transaction to `actions`; returns whether `)` closed it.
    private func addTransactionTokens(
        _ tokens: ArraySlice<ArgumentTokenizer.Token>, to actions: inout [TransactionAction]
    )
        throws(LineParseError) -> Bool
    {
        for position in tokens.indices {
            let token = tokens[position]
            switch token.kind {
            case .word(let word) where !word.wasQuoted && word.text == ")":
                if position + 1 < tokens.endIndex {
                    let extra = tokens[position + 1]
                    throw LineParseError(
                        column: extra.column, message: "unexpected '\(extra.raw)' after the ')' closing the transaction"
                    )
                }
                return true
            case .word(let word) where !word.wasQuoted && word.text == "transaction(":
                throw LineParseError(
                    column: token.column, message: "'transaction(' inside an open transaction; transactions do not nest"
                )
            case .word(let word):
                actions.append(TransactionAction(type: word.text))
            case .argument(let argument):
                guard !actions.isEmpty else {
                    throw LineParseError(
                        column: token.column, message: "expected an action name before '\(token.raw)'")
                }
                let value = try valueTyping.value(of: argument, in: .transactionAction(actions[actions.count - 1].type))
                try actions[actions.count - 1].data.add(argument, value: value)
            }
        }
        return false
    }

    private static func transactionMessage(_ actions: [TransactionAction]) -> JSONObject {
        // `data` is always sent: QEMU requires it even for actions without members (`abort`).
        let list = actions.map { action -> JSONValue in
            ["type": .string(action.type), "data": .object(action.data.object)]
        }
        return ["execute": "transaction", "arguments": ["actions": .array(list)]]
    }
}
