import Testing

@testable import QMPLineSyntax

/// Where a line's text starts: the ASCII fast path and Unicode whitespace agree.
@Suite(.timeLimit(.minutes(1))) struct LineStartTests {
    @Test(arguments: [
        ("query-status", "query-status", 1),
        ("   .help stop", ".help stop", 4),
        ("\t# comment", "# comment", 2),
        // Unicode whitespace (no-break space, ideographic space) counts as whitespace, by characters.
        ("\u{00A0}.wait STOP", ".wait STOP", 2),
        ("\u{3000} stop", "stop", 3),
        // A line that starts with a character outside ASCII starts there.
        ("é=1", "é=1", 1),
        ("", "", 1),
        (" \t ", "", 4),
    ])
    func textAndColumn(line: String, text: String, column: Int) {
        let start = LineStart(of: line)
        #expect(start.text == text)
        #expect(start.column == column)
        #expect(start.firstByte == text.utf8.first)
    }

    /// The column of an error in a directive counts the whitespace before it as characters.
    @Test func aDirectiveAfterUnicodeWhitespaceIsParsedWithItsColumn() throws {
        var parser = LineParser()
        #expect(try parser.parse("\u{3000}\u{00A0}# comment").isEmpty)
        #expect(throws: LineParseError(column: 8, message: "invalid character '!' in directive name '.wait!'")) {
            try parser.parse("\u{00A0} .wait!")
        }
    }
}
