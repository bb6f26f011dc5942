import Glibc
import QMPTestSupport
import Testing

// MARK: - Screen model

/// Output in, screen out: one case of the terminal model.
struct ScreenCase: CustomTestStringConvertible, Sendable {
    let name: String
    var columns = 10
    var rows = 4
    /// Fed one after another, so a case can split a sequence across reads.
    let feeds: [[UInt8]]
    /// The expected rows from the top; rows not listed must be empty.
    let lines: [String]
    let cursor: (row: Int, column: Int)

    init(
        _ name: String,
        columns: Int = 10,
        rows: Int = 4,
        _ output: String,
        lines: [String],
        cursor: (row: Int, column: Int)
    ) {
        self.init(name, columns: columns, rows: rows, feeds: [Array(output.utf8)], lines: lines, cursor: cursor)
    }

    init(
        _ name: String,
        columns: Int = 10,
        rows: Int = 4,
        feeds: [[UInt8]],
        lines: [String],
        cursor: (row: Int, column: Int)
    ) {
        self.name = name
        self.columns = columns
        self.rows = rows
        self.feeds = feeds
        self.lines = lines
        self.cursor = cursor
    }

    var testDescription: String { name }
}

private let esc = "\u{1b}"

@Suite("Terminal screen model", .timeLimit(.minutes(1)))
struct TerminalScreenTests {
    static let cases: [ScreenCase] = [
        // Text and auto-wrap.
        ScreenCase("plain text", "hello", lines: ["hello"], cursor: (0, 5)),
        ScreenCase("wraps at the right margin", "abcdefghijKL", lines: ["abcdefghij", "KL"], cursor: (1, 2)),
        ScreenCase(
            "a full row leaves the cursor on the last column", "abcdefghij", lines: ["abcdefghij"], cursor: (0, 9)),
        ScreenCase("CR after a full row does not wrap", "abcdefghij\rX", lines: ["Xbcdefghij"], cursor: (0, 1)),
        ScreenCase(
            "CR LF after a full row moves one row", "abcdefghij\r\nX", lines: ["abcdefghij", "X"], cursor: (1, 1)),
        ScreenCase(
            "erasing after a full row erases the last column", "abcdefghij\(esc)[K", lines: ["abcdefghi"],
            cursor: (0, 9)),
        // C0 controls.
        ScreenCase("LF keeps the column", "ab\ncd", lines: ["ab", "  cd"], cursor: (1, 4)),
        ScreenCase("CR LF scrolls at the bottom", rows: 3, "1\r\n2\r\n3\r\n4", lines: ["2", "3", "4"], cursor: (2, 1)),
        ScreenCase("backspace overwrites", "abc\u{8}\u{8}X", lines: ["aXc"], cursor: (0, 2)),
        ScreenCase("backspace stops at the left margin", "\u{8}\u{8}a", lines: ["a"], cursor: (0, 1)),
        ScreenCase(
            "tab stops every eight columns", columns: 20, "a\tb\tc", lines: ["a       b       c"], cursor: (0, 17)),
        ScreenCase("tab stops at the right margin", "abcdefghi\t", lines: ["abcdefghi"], cursor: (0, 9)),
        ScreenCase("bell is ignored", "a\u{7}b", lines: ["ab"], cursor: (0, 2)),
        // Cursor movement.
        ScreenCase("CUP is one-based", "\(esc)[2;3HX", lines: ["", "  X"], cursor: (1, 3)),
        ScreenCase("CUP without parameters goes home", "abc\(esc)[HX", lines: ["Xbc"], cursor: (0, 1)),
        ScreenCase("HVP is CUP", "\(esc)[3;2fX", lines: ["", "", " X"], cursor: (2, 2)),
        ScreenCase(
            "CUU CUD CUF CUB", "\(esc)[3;5H\(esc)[2AU\(esc)[BD\(esc)[3CF\(esc)[6DB",
            lines: ["    U", "   B D   F"], cursor: (1, 4)),
        ScreenCase(
            "movement clamps at the edges", "\(esc)[99B\(esc)[99CX\(esc)[99A\(esc)[99DY",
            lines: ["Y", "", "", "         X"], cursor: (0, 1)),
        ScreenCase("CHA and VPA", "\(esc)[5Ga\(esc)[3db", lines: ["    a", "", "     b"], cursor: (2, 6)),
        ScreenCase("CNL and CPL", "ab\(esc)[2Ec\(esc)[Fd", lines: ["ab", "d", "c"], cursor: (1, 1)),
        ScreenCase(
            "save and restore with ESC 7/8 and CSI s/u",
            "ab\(esc)7\(esc)[3;1Hx\(esc)8c\(esc)[s\(esc)[4;4Hy\(esc)[uz",
            lines: ["abcz", "", "x", "   y"], cursor: (0, 4)),
        // Erasing and editing within a line.
        ScreenCase(
            "EL 0 erases to the end", columns: 20, "hello world\r\(esc)[5C\(esc)[K",
            lines: ["hello"], cursor: (0, 5)),
        ScreenCase(
            "EL 1 erases to the cursor inclusive", "hello\r\(esc)[2C\(esc)[1K", lines: ["   lo"], cursor: (0, 2)),
        ScreenCase("EL 2 erases the line", "hello\(esc)[2K", lines: [""], cursor: (0, 5)),
        ScreenCase("DCH deletes and shifts left", "abcdef\r\(esc)[2C\(esc)[2P", lines: ["abef"], cursor: (0, 2)),
        ScreenCase("DCH defaults to one", "abcdef\r\(esc)[P", lines: ["bcdef"], cursor: (0, 0)),
        ScreenCase("ICH inserts blanks", "abcdef\r\(esc)[2C\(esc)[3@", lines: ["ab   cdef"], cursor: (0, 2)),
        ScreenCase("ICH pushes characters off the end", "abcdefghij\r\(esc)[2@", lines: ["  abcdefgh"], cursor: (0, 0)),
        ScreenCase("ECH erases without moving", "abcdef\r\(esc)[C\(esc)[3X", lines: ["a   ef"], cursor: (0, 1)),
        ScreenCase(
            "insert mode shifts the rest of the line", "abcd\r\(esc)[C\(esc)[4hXY\(esc)[4lZ",
            lines: ["aXYZcd"], cursor: (0, 4)),
        // Erasing and editing the display.
        ScreenCase("ED 0 erases below", "1\r\n2\r\n3\(esc)[2;1H\(esc)[J", lines: ["1"], cursor: (1, 0)),
        ScreenCase("ED 1 erases above", "11\r\n22\r\n33\(esc)[2;1H\(esc)[1J", lines: ["", " 2", "33"], cursor: (1, 0)),
        ScreenCase("ED 2 clears without moving", "ab\r\ncd\(esc)[2J", lines: [], cursor: (1, 2)),
        ScreenCase(
            "IL inserts lines", "1\r\n2\r\n3\r\n4\(esc)[2;3H\(esc)[L", lines: ["1", "", "2", "3"], cursor: (1, 0)),
        ScreenCase("DL deletes lines", "1\r\n2\r\n3\r\n4\(esc)[2H\(esc)[2M", lines: ["1", "4"], cursor: (1, 0)),
        ScreenCase(
            "scroll region confines scrolling", "top\(esc)[2;3r\(esc)[3;1Ha\r\nb\r\nc",
            lines: ["top", "b", "c"], cursor: (2, 1)),
        ScreenCase(
            "reverse index scrolls down at the top", "1\r\n2\(esc)[H\(esc)M0", lines: ["0", "1", "2"], cursor: (0, 1)),
        // Sequences that change nothing visible.
        ScreenCase("SGR is ignored", "\(esc)[1;31mred\(esc)[0m!", lines: ["red!"], cursor: (0, 4)),
        ScreenCase(
            "private modes are ignored", "\(esc)[?1h\(esc)=\(esc)[?2004ha\(esc)[?2004l", lines: ["a"], cursor: (0, 1)),
        ScreenCase("OSC ends at BEL or ST", "\(esc)]0;title\u{7}a\(esc)]2;x\(esc)\\b", lines: ["ab"], cursor: (0, 2)),
        ScreenCase("charset selection is ignored", "\(esc)(Ba\(esc))0b", lines: ["ab"], cursor: (0, 2)),
        ScreenCase(
            "unknown sequences are skipped", "a\(esc)[>1;2;3xb\(esc)[5 qc\(esc)#8d\(esc)Pq#0\(esc)\\e",
            lines: ["abcde"], cursor: (0, 5)),
        // UTF-8.
        ScreenCase("multi-byte characters take one column", "héllo ✓", lines: ["héllo ✓"], cursor: (0, 7)),
        ScreenCase(
            "a character split across two reads", feeds: [[0x61, 0xC3], [0xA9, 0x62]], lines: ["aéb"], cursor: (0, 3)),
        ScreenCase(
            "a four-byte character split across three reads", feeds: [[0xF0, 0x9F], [0x98], [0x80]],
            lines: ["😀"], cursor: (0, 2)),
        ScreenCase(
            "an escape sequence split across reads", feeds: [Array("ab\(esc)[".utf8), Array("2D".utf8), [0x58]],
            lines: ["Xb"], cursor: (0, 1)),
        ScreenCase(
            "invalid UTF-8 shows a replacement character", feeds: [[0x61, 0xC3, 0x62, 0xFF]],
            lines: ["a\u{FFFD}b\u{FFFD}"], cursor: (0, 4)),
        ScreenCase(
            "wide characters take two columns and wrap whole", "abcdefghi界", lines: ["abcdefghi", "界"], cursor: (1, 2)),
        ScreenCase("combining marks join the previous character", "e\u{301}x", lines: ["e\u{301}x"], cursor: (0, 2)),
    ]

    @Test(arguments: cases)
    func screen(_ example: ScreenCase) {
        var screen = TerminalScreen(columns: example.columns, rows: example.rows)
        for chunk in example.feeds {
            screen.feed(chunk)
        }
        let expected = example.lines + Array(repeating: "", count: example.rows - example.lines.count)
        #expect(screen.lines == expected, "\(screen)")
        #expect(screen.cursorRow == example.cursor.row && screen.cursorColumn == example.cursor.column, "\(screen)")
    }

    @Test func textDropsTrailingEmptyLinesAndContainsFindsWrappedText() {
        var screen = TerminalScreen(columns: 5, rows: 4)
        screen.feed("hello world\r\n")
        #expect(screen.text == "hello\n worl\nd")
        #expect(screen.line(at: 1) == " worl")
        #expect(screen.line(at: 99) == "")
        #expect(screen.contains("hello world"))
        #expect(screen.contains("o w"))
        #expect(!screen.contains("hello  world"))
        // Lines are trimmed, but a prompt's trailing blank is still found.
        screen.feed("qmp> ")
        #expect(screen.line(at: 3) == "qmp>")
        #expect(screen.contains("qmp> "))
    }

    @Test func resizeKeepsTheCursorRowVisible() {
        var screen = TerminalScreen(columns: 10, rows: 4)
        screen.feed("1\r\n2\r\n3\r\n4")
        screen.resize(columns: 5, rows: 2)
        #expect(screen.lines == ["3", "4"])
        #expect(screen.cursorRow == 1 && screen.cursorColumn == 1)
        screen.resize(columns: 20, rows: 3)
        #expect(screen.lines == ["3", "4", ""])
        screen.feed("\(esc)[3;20HX")
        #expect(screen.line(at: 2) == String(repeating: " ", count: 19) + "X")
    }
}

// MARK: - Live programs in a real pseudo-terminal
