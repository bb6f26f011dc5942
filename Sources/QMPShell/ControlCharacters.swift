extension String {
    /// The text with every control character written as JSON writes it (`\n`, `\r`, `\t`, `\b`,
    /// `\f`, and `\u001b` for the rest): C0 controls, DEL and the C1 controls (U+0080 to U+009F,
    /// which some terminals take as escape sequences too).
    ///
    /// For text that came from the server on its way to a terminal or to a diagnostic line: an
    /// event name, an error's class or description, the start of a message that was not JSON. A
    /// server (or, in guest-agent mode, the guest) could otherwise move the cursor, clear the
    /// screen, set the window title, or split one diagnostic into two lines for a script reading
    /// standard error. Backslashes are left as they are: the text stays readable, and what was
    /// escaped is only ever shown, never read back.
    public var escapingControlCharacters: String { escapingControlCharacters(keepingLines: false) }

    /// The same, keeping line feeds, carriage returns and tabs: for text of several lines that is
    /// shown as the server wrote it (HMP's answers).
    public func escapingControlCharacters(keepingLines: Bool) -> String {
        func escapes(_ scalar: Unicode.Scalar) -> Bool {
            Self.isControl(scalar) && !(keepingLines && (scalar == "\n" || scalar == "\r" || scalar == "\t"))
        }
        guard unicodeScalars.contains(where: escapes) else { return self }
        var escaped = ""
        escaped.reserveCapacity(utf8.count + 16)
        for scalar in unicodeScalars {
            guard escapes(scalar) else {
                escaped.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            case "\u{08}": escaped += "\\b"
            case "\u{0C}": escaped += "\\f"
            default:
                let digits = String(scalar.value, radix: 16)
                escaped += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
            }
        }
        return escaped
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }
}
