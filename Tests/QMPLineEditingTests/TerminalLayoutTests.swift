import Testing

@testable import QMPLineEditing

/// Where the line being edited lands on screen, as libedit draws it: the rows the editor moves
/// over when it prints an event above the prompt. A wrong row leaves a half-drawn prompt behind.
@Suite(.timeLimit(.minutes(1))) struct TerminalLayoutTests {
    private func scalars(_ text: String) -> [UInt32] { text.unicodeScalars.map(\.value) }

    @Test func aLineThatFitsStaysOnThePromptsRow() {
        let layout = TerminalLayout(columns: 20, rows: 10)
        let line = scalars("query-status")
        #expect(layout.row(prompt: scalars("(QEMU) "), line: line, index: line.count) == 0)
    }

    @Test func aFullRowWrapsAndTheCursorFollows() {
        let layout = TerminalLayout(columns: 10, rows: 10)
        // 7 columns of prompt + 13 of line: the 4th character starts the second row.
        let line = scalars("abcdefghijklm")
        #expect(layout.row(prompt: scalars("(QEMU) "), line: line, index: 2) == 0)
        #expect(layout.row(prompt: scalars("(QEMU) "), line: line, index: 3) == 1)
        #expect(layout.row(prompt: scalars("(QEMU) "), line: line, index: line.count) == 2)
    }

    @Test func tabsExpandToTheNextStopAndControlsTakeTwoColumns() {
        let layout = TerminalLayout(columns: 8, rows: 10)
        // A tab from column 0 fills the whole first row of 8; the next character is on row 1.
        #expect(layout.row(prompt: [], line: scalars("\tx"), index: 1) == 1)
        // ^A takes two columns: four of them fill a row of 8.
        let controls: [UInt32] = [1, 1, 1, 1, 0x78]
        #expect(layout.row(prompt: [], line: controls, index: 4) == 1)
    }

    @Test func rowsStopAtTheScreensLastRow() {
        let layout = TerminalLayout(columns: 4, rows: 3)
        let line = scalars(String(repeating: "x", count: 40))
        #expect(layout.row(prompt: [], line: line, index: line.count) == 2)
    }

    @Test func candidatesAreListedTopToBottomThenLeftToRight() {
        let layout = TerminalLayout(columns: 20, rows: 10)
        let rows = layout.columnize(["stop", "cont", "quit", "query-status", "system_reset"])
        // Cells are 14 wide (the longest name + 2): one per row of 20 columns.
        #expect(rows == ["stop", "cont", "quit", "query-status", "system_reset"])
        // Cells of 3 columns: two fit in 7, so five names take three rows.
        let narrow = TerminalLayout(columns: 7, rows: 10)
        #expect(narrow.columnize(["a", "b", "c", "d", "e"]) == ["a  d", "b  e", "c"])
        // All on one row when they fit.
        #expect(TerminalLayout(columns: 40, rows: 10).columnize(["a", "b", "c"]) == ["a  b  c"])
        #expect(narrow.columnize([]) == [])
    }
}
