import QMP

/// What a `key=value` argument belongs to, so that a schema-aware ``ValueTyping`` can look up the
/// declared type of the key.
public enum ArgumentOwner: Sendable, Hashable {
    /// An argument of the QMP command with this name.
    case command(String)
    /// A member of the `data` of the transaction action with this type (`block-dirty-bitmap-add`).
    case transactionAction(String)
    /// An argument of the directive with this name (`wait` for `.wait`).
    case directive(String)
}

/// Turns the text of one `key=value` argument into a JSON value.
///
/// ``ValueSyntax`` applies the shell's syntax rules alone; a schema-aware typing can make the
/// declared type win and fall back to ``ValueSyntax`` for the rest.
public protocol ValueTyping: Sendable {
    /// The JSON value of `argument`, which belongs to `owner`.
    /// Errors give the column of the problem and name the key.
    func value(of argument: ArgumentToken, in owner: ArgumentOwner) throws(LineParseError) -> JSONValue
}

/// The typing rules of the shell's syntax, without a schema:
///
/// - a value with any quoted part → string, as written (`command-line="info version"` → `"info version"`);
/// - `true`/`false` in any case → boolean; `null` (lower case) → JSON null;
/// - a decimal integer (optional sign, leading zeros dropped) or `0x` hexadecimal integer that fits in
///   64 bits → integer, kept exactly (18446744073709551615);
/// - a decimal with a fraction or an exponent (`1.5`, `.5`, `2e9`) → number;
/// - starting with `{` or `[` → JSON, or failing that a Python literal (``PythonLiteral``);
/// - anything else → string, including the empty value of `key=`.
public struct ValueSyntax: ValueTyping {
    public init() {}

    public func value(of argument: ArgumentToken, in owner: ArgumentOwner) throws(LineParseError) -> JSONValue {
        try Self.value(of: argument)
    }

    /// The value of `argument` under the rules above.
    public static func value(of argument: ArgumentToken) throws(LineParseError) -> JSONValue {
        let text = argument.text
        if argument.wasQuoted { return .string(text) }
        if let first = text.first, first == "{" || first == "[" {
            return try structuredValue(of: argument)
        }
        switch text.lowercased() {
        case "true": return .bool(true)
        case "false": return .bool(false)
        default: break
        }
        if text == "null" { return .null }
        if let number = number(from: text) { return .number(number) }
        return .string(text)
    }

    /// The number written as `text`: a decimal or `0x` integer, or a decimal with a fraction or an
    /// exponent; `nil` if `text` is none of these. The result is valid JSON number text
    /// (`+5` → `5`, `007` → `7`, `.5` → `0.5`, `0x10` → `16`).
    public static func number(from text: some StringProtocol) -> JSONNumber? {
        var digits = Substring(text)
        var negative = false
        if let sign = digits.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
            guard let magnitude = UInt64(digits.dropFirst(2), radix: 16) else { return nil }
            return JSONNumber(text: (negative && magnitude != 0 ? "-" : "") + String(magnitude))
        }
        return decimalNumberText(digits, negative: negative).flatMap { JSONNumber(text: $0) }
    }

    /// The JSON value of a bracketed argument: JSON if it parses as JSON, else a Python literal.
    /// The error, if both fail, is the one from the parser that read further: that is the syntax
    /// the user was writing.
    public static func structuredValue(of argument: ArgumentToken) throws(LineParseError) -> JSONValue {
        let text = argument.text
        let jsonError: JSONParseError
        do throws(JSONParseError) {
            return try JSONParser.parse(text)
        } catch {
            jsonError = error
        }
        let failure: JSONParseError
        do throws(JSONParseError) {
            return try PythonLiteral.parse(text)
        } catch {
            failure = error.offset > jsonError.offset ? error : jsonError
        }
        throw LineParseError(
            column: LineParseError.column(ofUTF8Offset: failure.offset, in: text, startColumn: argument.valueColumn),
            message: "invalid value for '\(argument.key)': \(failure.reason)")
    }

    /// JSON number text for an unsigned decimal (`12`, `1.5`, `.5`, `5.`, `1e-3`), or `nil`.
    static func decimalNumberText(_ text: Substring, negative: Bool) -> String? {
        func isDigit(_ character: Character) -> Bool { character >= "0" && character <= "9" }
        var rest = text
        let integer = rest.prefix(while: isDigit)
        rest = rest.dropFirst(integer.count)
        var fraction: Substring?
        if rest.first == "." {
            rest = rest.dropFirst()
            fraction = rest.prefix(while: isDigit)
            rest = rest.dropFirst(fraction!.count)
        }
        guard !integer.isEmpty || fraction?.isEmpty == false else { return nil }
        var exponent = ""
        if let marker = rest.first, marker == "e" || marker == "E" {
            rest = rest.dropFirst()
            exponent.append(marker)
            if let sign = rest.first, sign == "+" || sign == "-" {
                exponent.append(sign)
                rest = rest.dropFirst()
            }
            let exponentDigits = rest.prefix(while: isDigit)
            guard !exponentDigits.isEmpty else { return nil }
            exponent += exponentDigits
            rest = rest.dropFirst(exponentDigits.count)
        }
        guard rest.isEmpty else { return nil }
        // JSON forbids leading zeros and bare dots; Python's int() and float() accept them.
        let significant = integer.drop(while: { $0 == "0" })
        var result = negative ? "-" : ""
        result += significant.isEmpty ? "0" : significant
        if let fraction { result += "." + (fraction.isEmpty ? "0" : fraction) }
        return result + exponent
    }
}
