/// A byte-level JSON parser (RFC 8259) into ``JSONValue``.
///
/// It reads UTF-8 bytes directly, keeps member order and number text, rejects invalid UTF-8 and
/// unpaired surrogates, and stops at a nesting-depth limit with an error instead of exhausting the
/// stack.
public enum JSONParser {
    /// QEMU's own parser refuses deeper nesting than this, so no honest message exceeds it.
    public static let defaultMaxDepth = 1024

    /// Parses exactly one JSON value, surrounded by optional whitespace.
    public static func parse(_ bytes: some Sequence<UInt8>, maxDepth: Int = defaultMaxDepth) throws(JSONParseError)
        -> JSONValue
    {
        let result: Result<JSONValue, JSONParseError>? = bytes.withContiguousStorageIfAvailable { buffer in
            parseResult(buffer, maxDepth: maxDepth)
        }
        if let result { return try result.get() }
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { parseResult($0, maxDepth: maxDepth) }.get()
    }

    /// Parses exactly one JSON value from a string. With `singleQuotes`, strings may also be
    /// written in single quotes and `\'` is an escape, as QEMU's own JSON parser accepts (and
    /// QEMU's documentation writes) them.
    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth, singleQuotes: Bool = false)
        throws(JSONParseError) -> JSONValue
    {
        var text = text
        return try text.withUTF8 { parseResult($0, maxDepth: maxDepth, singleQuotes: singleQuotes) }.get()
    }

    /// Parses exactly one JSON value from raw memory.
    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int = defaultMaxDepth)
        throws(JSONParseError) -> JSONValue
    {
        try parseResult(buffer, maxDepth: maxDepth).get()
    }

    private static func parseResult(_ buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int, singleQuotes: Bool = false)
        -> Result<JSONValue, JSONParseError>
    {
        var reader = Reader(bytes: buffer, maxDepth: maxDepth)
        reader.singleQuotes = singleQuotes
        do throws(JSONParseError) {
            reader.skipWhitespace()
            let value = try reader.parseValue()
            reader.skipWhitespace()
            if reader.index != buffer.count {
                throw reader.error("unexpected text after the JSON value")
            }
            return .success(value)
        } catch {
            return .failure(error)
        }
    }

    /// Why a text is not a JSON number.
    enum NumberProblem {
        /// No digit where the integer part should start (after `-`, or at the start).
        case integerDigits
        /// A digit after a leading `0`, as in `01`.
        case leadingZero
        /// No digit after the `.`.
        case fractionDigits
        /// No digit after the `e` (and its optional sign).
        case exponentDigits
    }

    /// Scans a JSON number starting at `start`. Returns the index after it and no problem, or the
    /// index of the byte that breaks the number grammar and what is wrong there.
    static func scanNumber(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int)
        -> (end: Int, problem: NumberProblem?)
    {
        var index = start
        func isDigit(_ position: Int) -> Bool {
            position < bytes.count && bytes[position] &- UInt8(ascii: "0") < 10
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard isDigit(index) else { return (index, .integerDigits) }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if isDigit(index) { return (index, .leadingZero) }
        } else {
            repeat { index += 1 } while isDigit(index)
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard isDigit(index) else { return (index, .fractionDigits) }
            repeat { index += 1 } while isDigit(index)
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard isDigit(index) else { return (index, .exponentDigits) }
            repeat { index += 1 } while isDigit(index)
        }
        return (index, nil)
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        let maxDepth: Int
        var index = 0
        var depth = 0
        /// Scratch space for strings with escapes, reused to avoid an allocation per string.
        var scratch: [UInt8] = []
        /// Whether strings may be single-quoted, as QEMU's parser allows.
        var singleQuotes = false

        init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
            self.bytes = bytes
            self.maxDepth = maxDepth
        }

        func error(_ reason: String, at offset: Int? = nil) -> JSONParseError {
            JSONParseError(offset: offset ?? index, reason: reason)
        }

        func describeCurrent() -> String {
            guard index < bytes.count else { return "end of input" }
            let byte = bytes[index]
            if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
            return "byte 0x" + String(byte, radix: 16, uppercase: true)
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x0A, 0x0D, 0x09: index += 1
                default: return
                }
            }
        }

        mutating func parseValue() throws(JSONParseError) -> JSONValue {
            guard index < bytes.count else { throw error("expected a value, found end of input") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try parseObject()
            case UInt8(ascii: "["): return try parseArray()
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "'") where singleQuotes: return .string(try parseString())
            case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
            case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
            case UInt8(ascii: "n"): try expectWord("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let (end, problem) = JSONParser.scanNumber(bytes, from: index)
                if let problem {
                    index = end
                    throw numberError(problem)
                }
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[index..<end]), as: UTF8.self)
                index = end
                return .number(JSONNumber(validatedText: text))
            default:
                throw error("expected a value, found \(describeCurrent())")
            }
        }

        /// The error for a number that breaks the grammar at the current byte.
        func numberError(_ problem: NumberProblem) -> JSONParseError {
            switch problem {
            case .integerDigits: error("invalid number: expected a digit, found \(describeCurrent())")
            case .leadingZero: error("invalid number: leading zeros are not allowed")
            case .fractionDigits: error("invalid number: expected a digit after '.', found \(describeCurrent())")
            case .exponentDigits: error("invalid number: expected a digit in the exponent, found \(describeCurrent())")
            }
        }

        mutating func expectWord(_ word: StaticString) throws(JSONParseError) {
            let count = word.utf8CodeUnitCount
            let start = word.utf8Start
            guard index + count <= bytes.count else {
                throw error("expected '\(word)'")
            }
            for offset in 0..<count where bytes[index + offset] != start[offset] {
                throw error("expected '\(word)'")
            }
            index += count
        }

        mutating func enterContainer() throws(JSONParseError) {
            depth += 1
            if depth > maxDepth { throw error("nesting deeper than \(maxDepth) levels") }
        }

        mutating func parseObject() throws(JSONParseError) -> JSONValue {
            try enterContainer()
            index += 1
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                depth -= 1
                return .object(JSONObject())
            }
            // One allocation for the usual small object, rather than growing from one member.
            var members: [JSONObject.Member] = []
            members.reserveCapacity(4)
            while true {
                guard index < bytes.count,
                    bytes[index] == UInt8(ascii: "\"") || (singleQuotes && bytes[index] == UInt8(ascii: "'"))
                else {
                    throw error("expected a member name in quotes, found \(describeCurrent())")
                }
                let key = try parseString()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                    throw error("expected ':' after member name, found \(describeCurrent())")
                }
                index += 1
                skipWhitespace()
                members.append(JSONObject.Member(key: key, value: try parseValue()))
                skipWhitespace()
                guard index < bytes.count else { throw error("expected ',' or '}', found end of input") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    skipWhitespace()
                } else if bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    depth -= 1
                    return .object(JSONObject(members))
                } else {
                    throw error("expected ',' or '}', found \(describeCurrent())")
                }
            }
        }

        mutating func parseArray() throws(JSONParseError) -> JSONValue {
            try enterContainer()
            index += 1
            var elements: [JSONValue] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                depth -= 1
                return .array([])
            }
            while true {
                elements.append(try parseValue())
                skipWhitespace()
                guard index < bytes.count else { throw error("expected ',' or ']', found end of input") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    skipWhitespace()
                } else if bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    depth -= 1
                    return .array(elements)
                } else {
                    throw error("expected ',' or ']', found \(describeCurrent())")
                }
            }
        }

        /// Parses a string starting at its opening quote (`"`, or `'` with ``singleQuotes``).
        mutating func parseString() throws(JSONParseError) -> String {
            let quote = index
            let closing = bytes[quote]
            index += 1
            let start = index
            // Fast path: no escapes, all ASCII.
            var sawNonASCII = false
            while index < bytes.count {
                let byte = bytes[index]
                if byte == closing {
                    let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                    index += 1
                    if !sawNonASCII { return String(decoding: slice, as: UTF8.self) }
                    guard let string = String(validating: slice, as: UTF8.self) else {
                        throw error("invalid UTF-8 in string", at: firstInvalidUTF8(in: start..<(index - 1)))
                    }
                    return string
                }
                if byte == UInt8(ascii: "\\") { break }
                if byte < 0x20 { throw error("control character 0x\(String(byte, radix: 16)) in string") }
                if byte >= 0x80 { sawNonASCII = true }
                index += 1
            }
            guard index < bytes.count else { throw error("unterminated string", at: quote) }
            // Slow path: copy into scratch, decoding escapes.
            scratch.removeAll(keepingCapacity: true)
            scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
            while index < bytes.count {
                let byte = bytes[index]
                if byte == closing {
                    index += 1
                    guard let string = String(validating: scratch, as: UTF8.self) else {
                        throw error("invalid UTF-8 in string", at: firstInvalidUTF8(in: start..<(index - 1)))
                    }
                    return string
                }
                if byte < 0x20 { throw error("control character 0x\(String(byte, radix: 16)) in string") }
                if byte != UInt8(ascii: "\\") {
                    scratch.append(byte)
                    index += 1
                    continue
                }
                index += 1
                guard index < bytes.count else { break }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): scratch.append(0x22)
                case UInt8(ascii: "'") where singleQuotes: scratch.append(0x27)
                case UInt8(ascii: "\\"): scratch.append(0x5C)
                case UInt8(ascii: "/"): scratch.append(0x2F)
                case UInt8(ascii: "b"): scratch.append(0x08)
                case UInt8(ascii: "f"): scratch.append(0x0C)
                case UInt8(ascii: "n"): scratch.append(0x0A)
                case UInt8(ascii: "r"): scratch.append(0x0D)
                case UInt8(ascii: "t"): scratch.append(0x09)
                case UInt8(ascii: "u"): try appendUnicodeEscape()
                default:
                    throw error("invalid escape '\\\(Character(Unicode.Scalar(escape)))' in string", at: index - 2)
                }
            }
            throw error("unterminated string", at: quote)
        }

        /// Reads the four hex digits after `\u` (and a second escape for a surrogate pair).
        mutating func appendUnicodeEscape() throws(JSONParseError) {
            let escapeStart = index - 2
            var scalarValue = try readHex4()
            if (0xD800..<0xDC00).contains(scalarValue) {
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                else { throw error("unpaired surrogate \\u\(String(scalarValue, radix: 16))", at: escapeStart) }
                index += 2
                let low = try readHex4()
                guard (0xDC00..<0xE000).contains(low) else {
                    throw error("unpaired surrogate \\u\(String(scalarValue, radix: 16))", at: escapeStart)
                }
                scalarValue = 0x10000 + ((scalarValue - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(scalarValue) {
                throw error("unpaired surrogate \\u\(String(scalarValue, radix: 16))", at: escapeStart)
            }
            guard let scalar = Unicode.Scalar(scalarValue) else {
                throw error("invalid \\u escape", at: escapeStart)
            }
            scratch.append(contentsOf: UTF8.encode(scalar)!)
        }

        mutating func readHex4() throws(JSONParseError) -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard index < bytes.count else { throw error("expected four hex digits after \\u, found end of input") }
                let byte = bytes[index]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw error("expected four hex digits after \\u, found \(describeCurrent())")
                }
                value = value << 4 | UInt32(digit)
                index += 1
            }
            return value
        }

        /// The offset of the first byte that breaks UTF-8 in a range, for a precise error.
        func firstInvalidUTF8(in range: Range<Int>) -> Int {
            var offset = range.lowerBound
            var decoder = UTF8()
            var iterator = UnsafeBufferPointer(rebasing: bytes[range]).makeIterator()
            var consumed = 0
            while true {
                let before = consumed
                switch decoder.decode(&iterator) {
                case .scalarValue(let scalar):
                    consumed += UTF8.width(scalar)
                case .emptyInput:
                    return offset
                case .error:
                    return range.lowerBound + before
                }
                offset = range.lowerBound + consumed
            }
        }
    }
}
