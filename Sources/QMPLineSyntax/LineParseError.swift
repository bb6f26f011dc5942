/// Why a line typed at the shell (or read from a script) could not be turned into a QMP message,
/// and where in the line the problem is.
public struct LineParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The 1-based character column in the line where the offending token, key or character starts.
    public var column: Int
    /// What is wrong, naming the offending token or key: `unterminated quote in value of 'filename'`.
    public var message: String

    public init(column: Int, message: String) {
        self.column = column
        self.message = message
    }

    /// `column 14: unterminated quote in value of 'filename'`.
    public var description: String { "column \(column): \(message)" }
}

extension LineParseError {
    /// The column of a UTF-8 byte offset into `text`, where `text` starts at `startColumn`.
    ///
    /// The JSON and Python literal parsers report byte offsets; users count characters.
    static func column(ofUTF8Offset offset: Int, in text: some StringProtocol, startColumn: Int) -> Int {
        let prefix = text.utf8.prefix(max(0, offset))
        return startColumn + String(decoding: prefix, as: UTF8.self).count
    }
}
