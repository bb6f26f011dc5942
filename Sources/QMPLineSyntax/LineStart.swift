/// Where a line's text starts, past leading whitespace, and its first byte.
///
/// Whitespace is Unicode's (`Character.isWhitespace`), as everywhere in the line syntax, but a line
/// that starts with printable ASCII (nearly every line of a script) is recognised from its first
/// byte, without the grapheme breaking a `Character` costs: a lock-step replay runs this for every
/// line, twice.
public struct LineStart: Sendable {
    /// The line from its first character that is not whitespace.
    public let text: Substring
    /// The 1-based column of that character.
    public let column: Int

    public init(of line: String) {
        if let byte = line.utf8.first, byte > 0x20, byte < 0x7F {
            text = line[...]
            column = 1
        } else {
            let start = line.firstIndex { !$0.isWhitespace } ?? line.endIndex
            text = line[start...]
            column = line.distance(from: line.startIndex, to: start) + 1
        }
    }

    /// The first byte of the text, `nil` for a blank line.
    public var firstByte: UInt8? { text.utf8.first }
}
