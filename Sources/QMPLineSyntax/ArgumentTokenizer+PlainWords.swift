extension ArgumentTokenizer {
    /// The tokens of `text` when it is plain words only (`query-status`, `transaction(`, `)`):
    /// ASCII, without quotes, `=`, `#` or carriage returns, so that every token is a bare word
    /// exactly as typed and one byte is one character. `nil` for any other text, which the
    /// character-by-character scanner handles.
    ///
    /// Replaying a script of plain commands spent a third of its time splitting each line into
    /// grapheme clusters for the scanner; this gives the same tokens (text, raw text, columns)
    /// from the bytes.
    static func plainWords(_ text: some StringProtocol, firstColumn: Int) -> [Token]? {
        if let tokens = text.utf8.withContiguousStorageIfAvailable({ plainWords(bytes: $0, firstColumn: firstColumn) })
        {
            return tokens
        }
        var copy = String(text)
        return copy.withUTF8 { plainWords(bytes: $0, firstColumn: firstColumn) }
    }

    private static func plainWords(bytes: UnsafeBufferPointer<UInt8>, firstColumn: Int) -> [Token]? {
        for byte in bytes {
            switch byte {
            case 0x80..., UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "="), UInt8(ascii: "#"), 0x0D:
                return nil
            default: continue
            }
        }
        // The scanner's whitespace, in ASCII (a carriage return was refused above).
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0C).contains(byte) }
        var tokens: [Token] = []
        var index = 0
        while index < bytes.count {
            if isSpace(bytes[index]) {
                index += 1
                continue
            }
            let start = index
            while index < bytes.count, !isSpace(bytes[index]) { index += 1 }
            let word = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            let column = firstColumn + start
            tokens.append(
                Token(kind: .word(BareWord(text: word, wasQuoted: false, column: column)), raw: word, column: column))
        }
        return tokens
    }
}
