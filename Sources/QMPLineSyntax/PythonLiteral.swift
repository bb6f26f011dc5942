import QMP

/// A lenient parser for the Python literals the peer accepted through `ast.literal_eval`, into JSON.
///
/// Accepted: strings in single or double quotes with Python's escapes (`u`/`r` prefixes, adjacent
/// strings joined), integers (decimal, `0x`, `0o`, `0b`, `_` separators, any size in decimal),
/// floats, a leading `+`/`-`, `True`/`False`/`None`, lists, tuples (as arrays), dicts with string
/// keys, trailing commas. Leniently, JSON's `true`/`false`/`null` are accepted too, so that a value
/// mixing the two styles (`{'discard': true}`) works. Not JSON, so refused: sets, bytes, complex
/// numbers, non-string dict keys.
///
/// Errors reuse ``JSONParseError`` (a UTF-8 byte offset and a reason) so that callers report both
/// parsers' failures alike.
public enum PythonLiteral {
    /// Parses exactly one literal, surrounded by optional whitespace.
    public static func parse(_ text: String, maxDepth: Int = JSONParser.defaultMaxDepth) throws(JSONParseError)
        -> JSONValue
    {
        var reader = Reader(bytes: Array(text.utf8), maxDepth: maxDepth)
        reader.skipWhitespace()
        let value = try reader.parseValue()
        reader.skipWhitespace()
        if reader.index != reader.bytes.count {
            throw reader.error("unexpected text after the value, found \(reader.describeCurrent())")
        }
        return value
    }

    private struct Reader {
        let bytes: [UInt8]
        let maxDepth: Int
        var index = 0
        var depth = 0

        init(bytes: [UInt8], maxDepth: Int) {
            self.bytes = bytes
            self.maxDepth = maxDepth
        }

        func error(_ reason: String, at offset: Int? = nil) -> JSONParseError {
            JSONParseError(offset: offset ?? index, reason: reason)
        }

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        func describeCurrent() -> String {
            guard let byte = current else { return "end of input" }
            if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
            return "byte 0x" + String(byte, radix: 16, uppercase: true)
        }

        static func isIdentifierByte(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
                return true
            default:
                return false
            }
        }

        static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

        mutating func skipWhitespace() {
            while let byte = current,
                byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0B
                    || byte == 0x0C
            {
                index += 1
            }
        }

        mutating func parseValue() throws(JSONParseError) -> JSONValue {
            skipWhitespace()
            guard let byte = current else { throw error("expected a value, found end of input") }
            switch byte {
            case UInt8(ascii: "{"): return try parseDict()
            case UInt8(ascii: "["): return try parseSequence(closer: UInt8(ascii: "]"))
            case UInt8(ascii: "("): return try parseParenthesized()
            case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try parseStrings())
            case UInt8(ascii: "-"), UInt8(ascii: "+"):
                let sign = index
                index += 1
                skipWhitespace()
                guard let next = current, Self.isDigit(next) || next == UInt8(ascii: ".") else {
                    throw error("expected a number after '\(Character(Unicode.Scalar(bytes[sign])))'")
                }
                return .number(try parseNumber(negative: bytes[sign] == UInt8(ascii: "-")))
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."):
                return .number(try parseNumber(negative: false))
            default:
                guard Self.isIdentifierByte(byte) else { throw error("expected a value, found \(describeCurrent())") }
                return try parseName()
            }
        }

        mutating func enterContainer() throws(JSONParseError) {
            depth += 1
            if depth > maxDepth { throw error("nesting deeper than \(maxDepth) levels") }
        }

        /// After an element: skips a `,` (returning whether the container continues) or sees `closer`.
        mutating func continues(closer: UInt8) throws(JSONParseError) -> Bool {
            skipWhitespace()
            if current == UInt8(ascii: ",") {
                index += 1
                skipWhitespace()
                if current == closer {
                    index += 1  // A trailing comma.
                    return false
                }
                return true
            }
            if current == closer {
                index += 1
                return false
            }
            throw error("expected ',' or '\(Character(Unicode.Scalar(closer)))', found \(describeCurrent())")
        }

        mutating func parseSequence(closer: UInt8) throws(JSONParseError) -> JSONValue {
            try enterContainer()
            index += 1
            skipWhitespace()
            var elements: [JSONValue] = []
            if current == closer {
                index += 1
            } else {
                repeat {
                    elements.append(try parseValue())
                } while try continues(closer: closer)
            }
            depth -= 1
            return .array(elements)
        }

        /// `(1, 2)` and `(1,)` are tuples, `()` is empty, but `(1)` is just 1, as in Python.
        mutating func parseParenthesized() throws(JSONParseError) -> JSONValue {
            let start = index
            try enterContainer()
            index += 1
            skipWhitespace()
            if current == UInt8(ascii: ")") {
                index += 1
                depth -= 1
                return .array([])
            }
            let first = try parseValue()
            skipWhitespace()
            if current == UInt8(ascii: ")") {
                index += 1
                depth -= 1
                return first
            }
            index = start
            depth -= 1
            return try parseSequence(closer: UInt8(ascii: ")"))
        }

        mutating func parseDict() throws(JSONParseError) -> JSONValue {
            try enterContainer()
            index += 1
            skipWhitespace()
            var object = JSONObject()
            if current == UInt8(ascii: "}") {
                index += 1
                depth -= 1
                return .object(object)
            }
            repeat {
                skipWhitespace()
                let keyStart = index
                guard case .string(let key) = try parseValue() else {
                    throw error("dict keys must be strings", at: keyStart)
                }
                skipWhitespace()
                guard current == UInt8(ascii: ":") else {
                    throw error("expected ':' after a dict key, found \(describeCurrent())")
                }
                index += 1
                // A repeated key keeps its first place and its last value, as in a Python dict.
                object[key] = try parseValue()
            } while try continues(closer: UInt8(ascii: "}"))
            depth -= 1
            return .object(object)
        }

        mutating func parseName() throws(JSONParseError) -> JSONValue {
            let start = index
            while let byte = current, Self.isIdentifierByte(byte) { index += 1 }
            let name = String(decoding: bytes[start..<index], as: UTF8.self)
            if let quote = current, quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"") {
                switch name.lowercased() {
                case "u", "r":
                    index = start
                    return .string(try parseStrings())
                case "b", "br", "rb":
                    throw error("bytes literals have no JSON form", at: start)
                default:
                    break
                }
            }
            switch name {
            case "True", "true": return .bool(true)
            case "False", "false": return .bool(false)
            case "None", "null": return .null
            default: throw error("unknown name '\(name)'", at: start)
            }
        }

        /// One string or several adjacent ones (`'a' 'b'` is `'ab'`), with optional `u`/`r` prefixes.
        mutating func parseStrings() throws(JSONParseError) -> String {
            var result: [UInt8] = []
            while true {
                let save = index
                var raw = false
                while let byte = current, byte | 0x20 == UInt8(ascii: "u") || byte | 0x20 == UInt8(ascii: "r") {
                    raw = raw || byte | 0x20 == UInt8(ascii: "r")
                    index += 1
                }
                guard let quote = current, quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"") else {
                    index = save
                    break
                }
                try parseString(quote: quote, raw: raw, into: &result)
                let afterString = index
                skipWhitespace()
                guard let next = current,
                    next == UInt8(ascii: "'") || next == UInt8(ascii: "\"") || next | 0x20 == UInt8(ascii: "u")
                        || next | 0x20 == UInt8(ascii: "r")
                else {
                    index = afterString
                    break
                }
            }
            return String(decoding: result, as: UTF8.self)
        }

        mutating func parseString(quote: UInt8, raw: Bool, into result: inout [UInt8]) throws(JSONParseError) {
            let open = index
            index += 1
            while let byte = current {
                index += 1
                if byte == quote { return }
                if byte == 0x0A { break }
                guard byte == UInt8(ascii: "\\"), let escape = current else {
                    result.append(byte)
                    continue
                }
                if raw {
                    // In a raw string a backslash stays, but still keeps the next quote from ending it.
                    result.append(byte)
                    result.append(escape)
                    index += 1
                    continue
                }
                let escapeStart = index - 1
                index += 1
                switch escape {
                case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): result.append(escape)
                case UInt8(ascii: "n"): result.append(0x0A)
                case UInt8(ascii: "t"): result.append(0x09)
                case UInt8(ascii: "r"): result.append(0x0D)
                case UInt8(ascii: "a"): result.append(0x07)
                case UInt8(ascii: "b"): result.append(0x08)
                case UInt8(ascii: "f"): result.append(0x0C)
                case UInt8(ascii: "v"): result.append(0x0B)
                case UInt8(ascii: "0")...UInt8(ascii: "7"):
                    var value = UInt32(escape - UInt8(ascii: "0"))
                    var count = 1
                    while count < 3, let digit = current, digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "7") {
                        value = value * 8 + UInt32(digit - UInt8(ascii: "0"))
                        index += 1
                        count += 1
                    }
                    try appendScalar(value, escapeStart: escapeStart, to: &result)
                case UInt8(ascii: "x"): try appendScalar(readHex(2, escapeStart), escapeStart: escapeStart, to: &result)
                case UInt8(ascii: "u"): try appendScalar(readHex(4, escapeStart), escapeStart: escapeStart, to: &result)
                case UInt8(ascii: "U"): try appendScalar(readHex(8, escapeStart), escapeStart: escapeStart, to: &result)
                default:
                    // Python keeps an unknown escape as typed.
                    result.append(byte)
                    result.append(escape)
                }
            }
            throw error("unterminated string", at: open)
        }

        mutating func readHex(_ count: Int, _ escapeStart: Int) throws(JSONParseError) -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<count {
                guard let byte = current, let digit = Character(Unicode.Scalar(byte)).hexDigitValue else {
                    throw error("expected \(count) hex digits in escape", at: escapeStart)
                }
                value = value << 4 | UInt32(digit)
                index += 1
            }
            return value
        }

        func appendScalar(_ value: UInt32, escapeStart: Int, to result: inout [UInt8]) throws(JSONParseError) {
            guard let scalar = Unicode.Scalar(value) else {
                throw error("escape is not a Unicode character (surrogate or too large)", at: escapeStart)
            }
            result.append(contentsOf: UTF8.encode(scalar)!)
        }

        /// A number starting at the current byte; `negative` if a `-` came before it.
        mutating func parseNumber(negative: Bool) throws(JSONParseError) -> JSONNumber {
            let start = index
            let isRadix =
                index + 1 < bytes.count && bytes[index] == UInt8(ascii: "0")
                && [UInt8(ascii: "x"), UInt8(ascii: "o"), UInt8(ascii: "b")].contains(bytes[index + 1] | 0x20)
            while let byte = current {
                if Self.isIdentifierByte(byte) || byte == UInt8(ascii: ".") {
                    index += 1
                } else if !isRadix, byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-"),
                    bytes[index - 1] | 0x20 == UInt8(ascii: "e")
                {
                    index += 1
                } else {
                    break
                }
            }
            let written = String(decoding: bytes[start..<index], as: UTF8.self)
            // Python allows one `_` between digits; a stray one is as harmless as it is rare.
            let text = written.replacingUnderscores()
            let sign = negative ? "-" : ""
            if isRadix {
                let radix = ["x": 16, "o": 8, "b": 2][text.dropFirst().prefix(1).lowercased()]!
                guard let magnitude = UInt64(text.dropFirst(2), radix: radix) else {
                    throw error("invalid or too large integer '\(written)'", at: start)
                }
                return JSONNumber(text: (magnitude == 0 ? "" : sign) + String(magnitude))!
            }
            guard let number = ValueSyntax.decimalNumberText(Substring(text), negative: negative) else {
                throw error("invalid number '\(written)'", at: start)
            }
            return JSONNumber(text: number)!
        }
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String { filter { $0 != "_" } }
}
