/// The status lines the terminal thread keeps between the printed output and the prompt (live
/// progress), and how many rows of them are on screen.
struct TerminalStatus {
    private(set) var lines: [String] = []
    /// Rows drawn above the prompt now.
    var shownRows = 0
    /// New lines came since they were last drawn.
    private(set) var changed = false

    mutating func replace(with lines: [String]) {
        guard lines != self.lines || (lines.isEmpty && shownRows > 0) else { return }
        self.lines = lines
        changed = true
    }

    /// Up from the prompt's first row to the first status row.
    var up: String { shownRows > 0 ? "\u{1b}[\(shownRows)A" : "" }

    /// The lines, each cut to fit one row of `columns` (so each is exactly one row), a control
    /// character shown as `?` (the caller escapes what it means to show); records them as shown.
    mutating func draw(columns: Int) -> String {
        changed = false
        shownRows = lines.count
        return lines.map { line in
            let visible = line.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) }
            return String(visible.prefix(max(1, columns - 1))) + "\n"
        }.joined()
    }
}
