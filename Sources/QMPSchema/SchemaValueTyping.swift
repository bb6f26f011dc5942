import QMP
import QMPLineSyntax

/// Types `key=value` arguments by the schema: the declared type of the key decides what is sent.
///
/// - `str`: the text as typed (`name=7` → `"7"`, `name=true` → `"true"`).
/// - `int`: a decimal or `0x` integer; `number`: an integer or a decimal; `bool`: `true`/`false`
///   in any case; `null`: `null`. Quotes do not matter: the declared type wins.
/// - an enum: the text, which must be one of its values.
/// - a list or an object: written in brackets (`[1, 2]`, `{"a": 1}`), as JSON or a Python literal.
/// - an alternate: the branch the text fits (`null`, a boolean, a number), else its string branch.
/// - `any`, keys the schema cannot settle (a union member while the tag has no value yet), and
///   commands or owners it does not know: the shell's syntax rules (``ValueSyntax``).
///
/// With `checks`, a value that cannot fit its type and a key the command does not have are
/// errors, naming the key and the type; without, such values follow the syntax rules and
/// nothing is refused (`--no-schema-check`).
///
/// Union variants are picked by the value typed for the tag anywhere on the line, so the typing
/// is made for one line (``init(schema:checks:line:inTransaction:deviceProperties:)``).
public struct SchemaValueTyping: ValueTyping {
    public let schema: QMPSchema
    public let checks: Bool
    /// The text typed for each key of the line, by owner.
    let typed: [ArgumentOwner: TypedValues]
    /// For `device_add`: the QOM type of each property of the driver typed on the line.
    let deviceProperties: [String: String]

    /// A typing for `line`. `inTransaction`: the line continues an open transaction, so its bare
    /// words name actions. `deviceProperties`: for a `device_add` line, the driver's properties.
    public init(
        schema: QMPSchema, checks: Bool, line: String, inTransaction: Bool = false,
        deviceProperties: [DeviceCatalog.Property] = []
    ) {
        self.schema = schema
        self.checks = checks
        self.typed = Self.typedValues(ofLine: line, inTransaction: inTransaction)
        self.deviceProperties = Dictionary(deviceProperties.map { ($0.name, $0.type) }) { first, _ in first }
    }

    public func value(of argument: ArgumentToken, in owner: ArgumentOwner) throws(LineParseError) -> JSONValue {
        guard let root = rootType(of: owner) else { return try ValueSyntax.value(of: argument) }
        switch schema.lookUp(argument.keyPath, in: root, typed: typed[owner] ?? [:]) {
        case .member(let member):
            return try value(of: argument, as: member.typeName)
        case .undetermined:
            return try ValueSyntax.value(of: argument)
        case .unknown(let index, let candidates):
            if case .command(let name) = owner, schema.hasOpenArguments(name) {
                return try openArgumentValue(of: argument)
            }
            guard checks else { return try ValueSyntax.value(of: argument) }
            throw unknownArgument(argument, owner: owner, index: index, candidates: candidates)
        }
    }

    /// The object type of `owner`'s arguments, if the schema knows it.
    func rootType(of owner: ArgumentOwner) -> String? {
        switch owner {
        case .command(let name): schema.commands[name]?.argumentType
        case .transactionAction(let action): schema.transactionActionType(action)
        // `.add-fd PATH key=value ...` passes its arguments to add-fd.
        case .directive(let name): name == "add-fd" ? schema.commands["add-fd"]?.argumentType : nil
        }
    }

    // MARK: - By type

    /// The value of `argument` as the type called `typeName`.
    func value(of argument: ArgumentToken, as typeName: String) throws(LineParseError) -> JSONValue {
        let text = argument.text
        let bracketed = !argument.wasQuoted && (text.first == "{" || text.first == "[")
        guard let kind = schema.type(named: typeName)?.kind else { return try ValueSyntax.value(of: argument) }
        switch kind {
        case .builtin(.string):
            return .string(text)
        case .builtin(.value):
            return try ValueSyntax.value(of: argument)
        case .builtin(let builtin):
            if let value = Self.scalar(text, as: builtin) { return value }
        case .enumeration(let values):
            if !checks || values.contains(text) { return .string(text) }
            throw LineParseError(
                column: argument.valueColumn,
                message: "'\(argument.key)' expects \(schema.expectation(typeName)); got '\(text)'"
                    + Suggestion.clause(for: text, among: values))
        case .array, .object:
            if bracketed { return try ValueSyntax.structuredValue(of: argument) }
        case .alternate(let branches):
            if bracketed { return try ValueSyntax.structuredValue(of: argument) }
            if let value = alternateValue(of: argument, branches: branches) { return value }
        }
        guard checks else { return try ValueSyntax.value(of: argument) }
        throw LineParseError(
            column: argument.valueColumn,
            message: "'\(argument.key)' expects \(schema.expectation(typeName)), got '\(text)'" + Self.sizeHint(text))
    }

    /// `text` as a value of a scalar builtin, or `nil` if it is not one.
    static func scalar(_ text: String, as builtin: SchemaType.Builtin) -> JSONValue? {
        switch builtin {
        case .int:
            guard let number = ValueSyntax.number(from: text), number.isInteger else { return nil }
            return .number(number)
        case .number:
            return ValueSyntax.number(from: text).map(JSONValue.number)
        case .boolean:
            switch text.lowercased() {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: return nil
            }
        case .null:
            return text == "null" ? .null : nil
        case .string:
            return .string(text)
        case .value:
            return nil
        }
    }

    /// The value of an unbracketed `argument` for an alternate: the first branch its syntax fits
    /// (`null`, a boolean, a number), else the string as typed for a `str` or enum branch.
    private func alternateValue(of argument: ArgumentToken, branches: [String]) -> JSONValue? {
        let kinds = branches.compactMap { schema.type(named: $0)?.kind }
        if !argument.wasQuoted {
            for kind in kinds {
                if case .builtin(let builtin) = kind, builtin != .string,
                    let value = Self.scalar(argument.text, as: builtin)
                {
                    return value
                }
            }
        }
        for kind in kinds {
            switch kind {
            case .builtin(.string): return .string(argument.text)
            case .enumeration(let values) where !checks || values.contains(argument.text): return .string(argument.text)
            default: continue
            }
        }
        return nil
    }

    /// An argument of an open command (``QMPSchema/openCommands``) the schema does not declare:
    /// by the syntax rules, or for `device_add` by the property's QOM type
    /// when the driver's properties are known: integers as integers, booleans as booleans (`on`
    /// and `off` too, as `device-list-properties` describes them), names and enumerations
    /// (`drive`, `chr`, `OnOffAuto`...) as strings. What does not fit goes as a string for QEMU's
    /// own parser to judge, never refused: some integer properties take text (`addr=06.0`, a PCI
    /// slot and function, is an `int32`).
    private func openArgumentValue(of argument: ArgumentToken) throws(LineParseError) -> JSONValue {
        guard argument.keyPath.count == 1, let type = deviceProperties[argument.key] else {
            return try ValueSyntax.value(of: argument)
        }
        let text = argument.text
        switch type {
        case "bool":
            switch text.lowercased() {
            case "true", "on", "yes": return .bool(true)
            case "false", "off", "no": return .bool(false)
            default: return .string(text)
            }
        case "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "size", "int", "uint":
            return Self.scalar(text, as: .int) ?? .string(text)
        case "float", "double", "number":
            return try ValueSyntax.value(of: argument)
        default:
            return .string(text)
        }
    }

    /// A hint for a size written with a unit, which QMP does not take: ` (QMP takes a plain
    /// number of bytes: 64M is 67108864)`.
    static func sizeHint(_ text: String) -> String {
        let digits = text.prefix(while: \.isNumber)
        var unit = text.dropFirst(digits.count).lowercased()
        if unit.hasSuffix("ib") { unit.removeLast(2) } else if unit.hasSuffix("b") { unit.removeLast() }
        let shifts: [String: UInt64] = ["k": 10, "m": 20, "g": 30, "t": 40]
        guard let number = UInt64(digits), let shift = shifts[unit], number <= (UInt64.max >> shift) else { return "" }
        return " (QMP takes a plain number of bytes: \(text) is \(number << shift))"
    }

    // MARK: - Errors

    private func unknownArgument(_ argument: ArgumentToken, owner: ArgumentOwner, index: Int, candidates: [String])
        -> LineParseError
    {
        let subject: String
        switch owner {
        case .command(let name): subject = name
        case .transactionAction(let action): subject = "transaction action '\(action)'"
        case .directive(let name): subject = "." + name
        }
        let parent = argument.keyPath[..<index]
        let message: String
        if candidates.isEmpty && index == 0 {
            message = "\(subject) takes no arguments, got '\(argument.key)'"
        } else if candidates.isEmpty {
            message =
                "unknown argument '\(argument.key)' for \(subject): '\(parent.joined(separator: "."))' has no members"
        } else {
            let suggestion = Suggestion.closest(to: argument.keyPath[index], among: candidates).map {
                " (did you mean '\((parent + [$0]).joined(separator: "."))'?)"
            }
            message = "unknown argument '\(argument.key)' for \(subject)" + (suggestion ?? "")
        }
        return LineParseError(column: argument.column, message: message)
    }

    // MARK: - The line's values

    /// The text typed for each key of `line`, by the command or transaction action it belongs to.
    public static func typedValues(ofLine line: String, inTransaction: Bool) -> [ArgumentOwner: TypedValues] {
        guard let tokens = try? ArgumentTokenizer.tokenize(line) else { return [:] }
        var owner: ArgumentOwner?
        var inTransaction = inTransaction
        var result: [ArgumentOwner: TypedValues] = [:]
        for (index, token) in tokens.enumerated() {
            switch token.kind {
            case .word(let word) where index == 0 && !inTransaction:
                if word.text == "transaction(" { inTransaction = true } else { owner = .command(word.text) }
            case .word(let word):
                if inTransaction && word.text != ")" { owner = .transactionAction(word.text) }
            case .argument(let argument):
                if let owner { result[owner, default: [:]][argument.keyPath] = argument.text }
            }
        }
        return result
    }
}
