/// A JSON number stored as the exact text it was written with, so that values no Swift number type
/// holds exactly (18446744073709551615 and -9223372036854775808 side by side, 1e308, -0.0) survive a
/// round trip unchanged.
public struct JSONNumber: Sendable, Hashable {
    /// The number as JSON text, for example `-12`, `0.5` or `1e308`.
    public let text: String

    /// Wraps text already known to follow JSON's number grammar (the parser's path).
    init(validatedText: String) {
        self.text = validatedText
    }

    /// Makes a number from JSON number text; `nil` if the text is not a JSON number.
    public init?(text: String) {
        let bytes = Array(text.utf8)
        let scan = bytes.withUnsafeBufferPointer { JSONParser.scanNumber($0, from: 0) }
        guard scan.problem == nil, scan.end == bytes.count else { return nil }
        self.text = text
    }

    public init(_ value: Int) { self.text = String(value) }
    public init(_ value: Int64) { self.text = String(value) }
    public init(_ value: UInt64) { self.text = String(value) }

    /// Makes a number from a double; infinities and NaN, which JSON cannot express, become `null`
    /// in the caller's hands, so this initializer refuses them.
    public init(_ value: Double) {
        precondition(value.isFinite, "JSON cannot represent \(value)")
        // Swift prints the shortest text that reads back as the same double.
        self.text =
            value == value.rounded() && abs(value) < 1e16 && !(value == 0 && value.sign == .minus)
            ? String(Int64(value)) : "\(value)"
    }

    /// The value as a signed integer, if the text is an integer that fits.
    public var intValue: Int? { Int(text) }

    /// The value as an unsigned 64-bit integer, if the text is a non-negative integer that fits.
    public var uint64Value: UInt64? { UInt64(text) }

    /// The value as a double (possibly rounded; infinite if out of range).
    public var doubleValue: Double { Double(text) ?? .nan }

    /// Whether the text has no fraction and no exponent.
    public var isInteger: Bool {
        !text.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") })
    }
}
