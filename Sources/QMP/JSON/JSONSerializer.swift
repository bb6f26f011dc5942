/// Writes ``JSONValue``s as JSON text.
extension JSONValue {
    /// How to lay out JSON text.
    public enum Layout: Sendable {
        /// One line, no whitespace: `{"a":1,"b":[true,null]}`.
        case compact
        /// Indented by four spaces per level, one member or element per line.
        case pretty
    }

    /// This value as JSON text. Strings keep non-ASCII characters as UTF-8 and escape what JSON
    /// requires (`"`, `\` and control characters), and DEL and the C1 controls (U+0080 to
    /// U+009F) too, which some terminals obey as escape sequences; `/` is not escaped.
    public func serialized(_ layout: Layout = .compact) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        write(to: &bytes, layout: layout)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends this value's JSON text as UTF-8 to `bytes`.
    public func write(to bytes: inout [UInt8], layout: Layout = .compact) {
        switch layout {
        case .compact: writeCompact(to: &bytes)
        case .pretty: writePretty(to: &bytes, indent: 0)
        }
    }

    private func writeCompact(to bytes: inout [UInt8]) {
        switch self {
        case .null: bytes.append(contentsOf: "null".utf8)
        case .bool(let value): bytes.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let number): bytes.append(contentsOf: number.text.utf8)
        case .string(let string): JSONValue.writeString(string, to: &bytes)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { bytes.append(UInt8(ascii: ",")) }
                element.writeCompact(to: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            bytes.append(UInt8(ascii: "{"))
            for (position, member) in object.members.enumerated() {
                if position > 0 { bytes.append(UInt8(ascii: ",")) }
                JSONValue.writeString(member.key, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                member.value.writeCompact(to: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    private func writePretty(to bytes: inout [UInt8], indent: Int) {
        func newline(_ level: Int) {
            bytes.append(UInt8(ascii: "\n"))
            bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: level * 4))
        }
        switch self {
        case .array(let elements) where !elements.isEmpty:
            bytes.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { bytes.append(UInt8(ascii: ",")) }
                newline(indent + 1)
                element.writePretty(to: &bytes, indent: indent + 1)
            }
            newline(indent)
            bytes.append(UInt8(ascii: "]"))
        case .object(let object) where !object.isEmpty:
            bytes.append(UInt8(ascii: "{"))
            for (position, member) in object.members.enumerated() {
                if position > 0 { bytes.append(UInt8(ascii: ",")) }
                newline(indent + 1)
                JSONValue.writeString(member.key, to: &bytes)
                bytes.append(contentsOf: ": ".utf8)
                member.value.writePretty(to: &bytes, indent: indent + 1)
            }
            newline(indent)
            bytes.append(UInt8(ascii: "}"))
        default:
            writeCompact(to: &bytes)
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    static func writeString(_ string: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            // Runs of bytes that need no escape (nearly all of them) are copied at once.
            var runStart = 0
            for (index, byte) in utf8.enumerated()
            where byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x7F
                || (byte == 0xC2 && index + 1 < utf8.count && utf8[index + 1] < 0xA0)
            {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                runStart = index + 1
                bytes.append(0x5C)
                if byte == 0xC2 {
                    // A C1 control, U+0080 to U+009F: two bytes in UTF-8.
                    let value = utf8[index + 1]
                    runStart = index + 2
                    bytes.append(contentsOf: "u00".utf8)
                    bytes.append(hexDigits[Int(value >> 4)])
                    bytes.append(hexDigits[Int(value & 0xF)])
                    continue
                }
                switch byte {
                case 0x22, 0x5C: bytes.append(byte)
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                default:
                    bytes.append(UInt8(ascii: "u"))
                    bytes.append(UInt8(ascii: "0"))
                    bytes.append(UInt8(ascii: "0"))
                    bytes.append(hexDigits[Int(byte >> 4)])
                    bytes.append(hexDigits[Int(byte & 0xF)])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
