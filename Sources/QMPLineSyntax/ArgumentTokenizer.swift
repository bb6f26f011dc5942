/// One `key=value` argument as typed, before its value is given a JSON type.
///
/// The parser hands these to a ``ValueTyping`` so that typing can be replaced (by a schema-aware one)
/// without touching the lexical rules.
public struct ArgumentToken: Sendable, Hashable {
    /// The key split at its unquoted dots: `file.driver` is `["file", "driver"]`, `"a.b"` is `["a.b"]`.
    /// Never empty, no empty parts.
    public var keyPath: [String]
    /// The value as typed, with quotes removed and escapes decoded; a bracketed value (`{...}`,
    /// `[...]`) is kept verbatim.
    public var text: String
    /// Whether any part of the value was quoted: a quoted value is always a string.
    public var wasQuoted: Bool
    /// The 1-based column where the key starts.
    public var column: Int
    /// The 1-based column where the value starts (just after `=`).
    public var valueColumn: Int

    public init(keyPath: [String], text: String, wasQuoted: Bool = false, column: Int = 1, valueColumn: Int = 1) {
        self.keyPath = keyPath
        self.text = text
        self.wasQuoted = wasQuoted
        self.column = column
        self.valueColumn = valueColumn
    }

    /// The key as typed: `file.driver`.
    public var key: String { keyPath.joined(separator: ".") }
}

/// A token without an unquoted `=`: a command name, an action name, `transaction(`, `)`, or a
/// directive's positional word.
public struct BareWord: Sendable, Hashable {
    /// The word with quotes removed and escapes decoded.
    public var text: String
    /// Whether any part of the word was quoted (a quoted `")"` does not close a transaction).
    public var wasQuoted: Bool
    /// The 1-based column where the word starts.
    public var column: Int

    public init(text: String, wasQuoted: Bool = false, column: Int = 1) {
        self.text = text
        self.wasQuoted = wasQuoted
        self.column = column
    }
}

/// Splits the argument part of a line into bare words and `key=value` arguments.
///
/// Rules: tokens are separated by whitespace; `"..."` and `'...'` group and may appear anywhere in a
/// token (`path=/tmp/"my file"`); inside double quotes `\"`, `\\`, `\n`, `\t` are escapes, inside
/// single quotes `\'` and `\\`; any other backslash is kept as typed, as are backslashes outside
/// quotes. A token splits at its first unquoted `=`, and its key at each unquoted `.`. A value
/// starting with `{` or `[` runs to the matching bracket, spaces included; brackets inside its
/// strings do not count. An unquoted `#` at the start of a token begins a comment that runs to the
/// end of the line.
public enum ArgumentTokenizer {
    /// One word or `key=value` of a line, where it starts, and how it was typed.
    public struct Token: Sendable, Hashable {
        /// A bare word (a command name, a transaction action) or an argument.
        public enum Kind: Sendable, Hashable {
            case word(BareWord)
            case argument(ArgumentToken)
        }

        public var kind: Kind
        /// The token exactly as typed, quotes included, for error messages.
        public var raw: String
        /// The column (from 1) of its first character.
        public var column: Int
    }

    /// The tokens of `text`, whose first character is at column `firstColumn` of the line.
    public static func tokenize(_ text: some StringProtocol, firstColumn: Int = 1) throws(LineParseError) -> [Token] {
        if let words = plainWords(text, firstColumn: firstColumn) { return words }
        return try scannedTokens(text, firstColumn: firstColumn)
    }

    /// ``tokenize(_:firstColumn:)`` character by character, for any text.
    static func scannedTokens(_ text: some StringProtocol, firstColumn: Int) throws(LineParseError) -> [Token] {
        var scanner = Scanner(characters: Array(text), firstColumn: firstColumn)
        var tokens: [Token] = []
        while let token = try scanner.nextToken() {
            tokens.append(token)
        }
        return tokens
    }

    /// `text` cut to its first 40 characters, for messages about a key that may be megabytes long.
    static func abbreviated(_ text: String) -> String {
        text.count > 40 ? text.prefix(40) + "…" : text
    }

    private struct Scanner {
        let characters: [Character]
        let firstColumn: Int
        var index = 0

        init(characters: [Character], firstColumn: Int) {
            self.characters = characters
            self.firstColumn = firstColumn
        }

        func column(_ position: Int) -> Int { firstColumn + position }

        /// `Character.isWhitespace`, answered without the Unicode tables for ASCII (nearly every
        /// character of a line): the tables were a tenth of the time of replaying a script.
        static func isSpace(_ character: Character) -> Bool {
            if let ascii = character.asciiValue { return ascii == 0x20 || (0x09...0x0D).contains(ascii) }
            return character.isWhitespace
        }

        func error(at position: Int, _ message: String) -> LineParseError {
            LineParseError(column: column(position), message: message)
        }

        /// The rest of the token that starts at `start`, for messages about a token that never ended.
        func restOfLine(from start: Int) -> String {
            var text = String(characters[start...])
            while text.last.map(Self.isSpace) == true { text.removeLast() }
            return text
        }

        mutating func nextToken() throws(LineParseError) -> Token? {
            while index < characters.count, Self.isSpace(characters[index]) { index += 1 }
            guard index < characters.count, characters[index] != "#" else { return nil }
            let start = index
            var text = ""
            var quoted = false
            // Before the `=`, each unquoted dot ends a key part; a quoted dot stays in its part, so
            // that vendor names such as `"__com.redhat_x"=1` can be written.
            var keyParts: [String] = []
            // A key of more parts than a message may nest is refused at its `=`; its dots are no
            // longer split, so a key of a million parts costs no more than its text.
            var tooDeep = false
            var key: [String]?
            var valueStart = start
            scan: while index < characters.count, !Self.isSpace(characters[index]) {
                let character = characters[index]
                if character == "\"" || character == "'" {
                    text += try readQuoted(tokenStart: start, key: key.map(Self.display))
                    quoted = true
                } else if character == ".", key == nil, !tooDeep {
                    keyParts.append(text)
                    text = ""
                    index += 1
                    tooDeep = keyParts.count >= ArgumentsBuilder.maximumDepth
                } else if character == "=", key == nil {
                    if tooDeep {
                        let typed = String(characters[start..<index])
                        throw error(
                            at: start,
                            "key '\(ArgumentTokenizer.abbreviated(typed))' nests deeper than "
                                + "\(ArgumentsBuilder.maximumDepth) levels, the most QEMU accepts")
                    }
                    key = keyParts + [text]
                    text = ""
                    quoted = false
                    index += 1
                    valueStart = index
                    if index < characters.count, characters[index] == "{" || characters[index] == "[" {
                        let keyText = Self.display(key!)
                        text = try readBracketed(key: keyText)
                        if index < characters.count, !Self.isSpace(characters[index]) {
                            let closer = characters[index - 1]
                            throw error(
                                at: index,
                                "unexpected '\(characters[index])' after the closing '\(closer)' in value of '\(keyText)'"
                            )
                        }
                        break scan
                    }
                } else {
                    text.append(character)
                    index += 1
                }
            }
            let raw = String(characters[start..<index])
            guard let key else {
                // The dots were unquoted, so joining restores the word as written.
                let word = BareWord(
                    text: (keyParts + [text]).joined(separator: "."), wasQuoted: quoted, column: column(start))
                return Token(kind: .word(word), raw: raw, column: column(start))
            }
            if key == [""] {
                throw error(at: start, "empty key in '\(raw)'")
            }
            if key.contains(where: \.isEmpty) {
                throw error(at: start, "invalid key '\(Self.display(key))': empty name between dots")
            }
            let argument = ArgumentToken(
                keyPath: key, text: text, wasQuoted: quoted, column: column(start), valueColumn: column(valueStart))
            return Token(kind: .argument(argument), raw: raw, column: column(start))
        }

        static func display(_ keyPath: [String]) -> String { keyPath.joined(separator: ".") }

        /// Reads a quoted section starting at its opening quote; returns its decoded content.
        mutating func readQuoted(tokenStart: Int, key: String?) throws(LineParseError) -> String {
            let quote = characters[index]
            let open = index
            index += 1
            var content = ""
            while index < characters.count {
                let character = characters[index]
                if character == quote {
                    index += 1
                    return content
                }
                if character == "\\", index + 1 < characters.count {
                    let next = characters[index + 1]
                    switch (quote, next) {
                    case ("\"", "\""), ("\"", "\\"), ("'", "'"), ("'", "\\"): content.append(next)
                    case ("\"", "n"): content.append("\n")
                    case ("\"", "t"): content.append("\t")
                    // Unknown escapes stay as typed, like a POSIX shell's double quotes, so that
                    // regular expressions and the like survive.
                    default: content += "\\\(next)"
                    }
                    index += 2
                    continue
                }
                content.append(character)
                index += 1
            }
            if let key {
                throw error(at: open, "unterminated quote in value of '\(key)'")
            }
            throw error(at: open, "unterminated quote in '\(restOfLine(from: tokenStart))'")
        }

        /// Reads a value from its opening `{` or `[` to the matching closer; returns it verbatim.
        mutating func readBracketed(key: String) throws(LineParseError) -> String {
            let start = index
            // Parentheses count too, for Python tuples nested inside a list.
            var open: [(closer: Character, position: Int)] = []
            while index < characters.count {
                let character = characters[index]
                switch character {
                case "{": open.append(("}", index))
                case "[": open.append(("]", index))
                case "(": open.append((")", index))
                case "}", "]", ")":
                    let expected = open.removeLast()
                    guard expected.closer == character else {
                        throw error(
                            at: index,
                            "mismatched '\(character)' in value of '\(key)' (expected '\(expected.closer)')")
                    }
                    if open.isEmpty {
                        index += 1
                        return String(characters[start..<index])
                    }
                case "\"", "'":
                    let quote = index
                    index += 1
                    while index < characters.count, characters[index] != character {
                        index += characters[index] == "\\" ? 2 : 1
                    }
                    if index >= characters.count {
                        throw error(at: quote, "unterminated quote in value of '\(key)'")
                    }
                default:
                    break
                }
                index += 1
            }
            let unclosed = open.last!
            let opener = characters[unclosed.position]
            throw error(at: unclosed.position, "unbalanced '\(opener)' in value of '\(key)'")
        }
    }
}
