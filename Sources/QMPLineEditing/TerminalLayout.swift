import CEditLine
import CTerminal

/// Where libedit draws the prompt and the line being edited, so the line editor knows how many
/// rows to move over when it prints above them.
///
/// It follows libedit's own layout rules (`re_putc` and `re_addc` in its `refresh.c`): a
/// character that does not fit at the end of a row moves to the next one, a row that fills up
/// wraps, tabs expand to the next multiple of 8, control characters show as `^X`, and other
/// unprintable characters as `\U+XXXX`. Rows count from the prompt's first row; like libedit's
/// display, they stop at the screen's last row.
struct TerminalLayout {
    /// The terminal width, at least 1.
    var columns: Int
    /// The terminal height, at least 1.
    var rows: Int

    init(columns: Int, rows: Int) {
        self.columns = max(columns, 1)
        self.rows = max(rows, 1)
    }

    /// The row of the character at `index` in `line` (or of the end of the line when `index` is
    /// `line.count`), when `line` follows `prompt`. Characters are Unicode scalar values, as in
    /// libedit's wide-character line buffer.
    func row(prompt: [UInt32], line: [UInt32], index: Int) -> Int {
        var pen = Pen(columns: columns, rows: rows)
        for scalar in prompt {
            pen.put(width: Self.width(of: scalar))
        }
        for (position, scalar) in line.enumerated() {
            if position == index {
                // libedit moves the cursor to the next row when it sits on a double-width
                // character that will not fit at the end of this one.
                let width = Self.width(of: scalar)
                return width > 1 && pen.column + width > columns ? min(pen.row + 1, rows - 1) : pen.row
            }
            pen.add(scalar)
        }
        return pen.row
    }

    /// `items` in columns, filled top to bottom then left to right like `ls` and bash, each
    /// column as wide as the widest item plus two spaces. Returns the rows, without newlines.
    func columnize(_ items: [String]) -> [String] {
        guard !items.isEmpty else { return [] }
        let widths = items.map(Self.width(of:))
        let cellWidth = (widths.max() ?? 0) + 2
        let perRow = max(1, min(items.count, columns / max(cellWidth, 1)))
        let rowCount = (items.count + perRow - 1) / perRow
        var lines: [String] = []
        lines.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            var line = ""
            var column = row
            while column < items.count {
                line += items[column]
                let next = column + rowCount
                if next < items.count {
                    line += String(repeating: " ", count: cellWidth - widths[column])
                }
                column = next
            }
            lines.append(line)
        }
        return lines
    }

    /// How many columns `text` takes when printed plainly.
    static func width(of text: String) -> Int {
        text.unicodeScalars.reduce(0) { $0 + max(Int(qmpshell_char_width($1.value)), 0) }
    }

    /// How many columns libedit's `re_putc` advances for one scalar (0 for what has no width).
    private static func width(of scalar: UInt32) -> Int {
        max(Int(qmpshell_char_width(scalar)), 0)
    }

    /// A cursor walking the screen as libedit fills it.
    private struct Pen {
        let columns: Int
        let rows: Int
        var row = 0
        var column = 0

        init(columns: Int, rows: Int) {
            self.columns = columns
            self.rows = rows
        }

        /// One character as `re_addc` shows it.
        mutating func add(_ scalar: UInt32) {
            switch scalar {
            case 0x09:
                repeat { put(width: 1) } while column % 8 != 0
            case 0x0A:
                newLine()
            case _ where scalar < 0x100 && qmpshell_char_is_control(scalar) != 0:
                put(width: 1)  // ^
                put(width: 1)  // the letter
            case _ where qmpshell_char_is_printable(scalar) == 0:
                for _ in 0..<(scalar > 0xFFFF ? 8 : 7) { put(width: 1) }  // \U+XXXX
            default:
                put(width: TerminalLayout.width(of: scalar))
            }
        }

        /// One cell run as `re_putc` places it.
        mutating func put(width: Int) {
            if column + width > columns {
                newLine()  // libedit pads to the end of the row with spaces
            }
            column += width
            if column >= columns {
                newLine()
            }
        }

        mutating func newLine() {
            column = 0
            if row + 1 < rows {
                row += 1
            }
        }
    }
}
