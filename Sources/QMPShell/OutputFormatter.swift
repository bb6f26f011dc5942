import QMP

/// Turns replies, events and errors into the text the user sees.
public struct OutputFormatter: Sendable {
    public var pretty: Bool
    public var color: Bool
    /// Events as people read them (`HH:MM:SS.mmm NAME {data}`, as `--watch` on a terminal shows
    /// them) instead of the server's JSON: the interactive shell.
    public var readableEvents = false

    public init(pretty: Bool, color: Bool) {
        self.pretty = pretty
        self.color = color
    }

    /// A message as one compact JSON line, or indented with `-p`; ends with a newline.
    public func json(_ message: JSONObject) -> String {
        message.serialized(pretty ? .pretty : .compact) + "\n"
    }

    /// An error line, red on a colour terminal. One message is one line, whatever the server put
    /// in it: control characters are escaped (``Swift/String/escapingControlCharacters``).
    public func error(_ text: String) -> String {
        let text = text.escapingControlCharacters
        return color ? "\u{1B}[31m\(text)\u{1B}[0m\n" : text + "\n"
    }

    /// A notice (state changes, dropped events), dim on a colour terminal; one line, like
    /// ``error(_:)``.
    public func notice(_ text: String) -> String {
        let text = text.escapingControlCharacters
        return color ? "\u{1B}[2m\(text)\u{1B}[0m\n" : text + "\n"
    }
}
