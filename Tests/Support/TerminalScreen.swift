/// A model of what an xterm-compatible terminal would show after receiving some output.
///
/// Feed it the bytes a program writes to its terminal (`feed(_:)`) and
/// read back the visible grid (``lines``, ``text``) and the cursor position. It implements the
/// subset of VT100/xterm that libedit and line-oriented programs emit with
/// `TERM=xterm-256color`: printable text with xterm's auto-wrap, C0 controls, cursor movement,
/// erasing, inserting and deleting characters and lines, scroll regions, insert mode and saving
/// the cursor. Attributes (colours, bold) are ignored, and so is every sequence it does not
/// know, so tests compare plain text.
///
/// Rows and columns are zero-based. There is no scrollback: lines scrolled off the top are gone.
public struct TerminalScreen: Sendable, CustomStringConvertible {
    /// The number of rows on the screen.
    public private(set) var rows: Int
    /// The number of columns on the screen.
    public private(set) var columns: Int
    /// The zero-based row of the cursor.
    public private(set) var cursorRow = 0
    /// The zero-based column of the cursor.
    ///
    /// After a character is written to the last column the cursor stays on that column (as in
    /// xterm) until the next character wraps it to the following line.
    public private(set) var cursorColumn = 0

    private var cells: [[Character]]
    /// Whether a row continues on the next one because the text auto-wrapped, so ``contains(_:)``
    /// finds text the terminal width happened to split.
    private var softWrapped: [Bool]
    /// xterm's "last column flag": a character written to the last column leaves the cursor
    /// there, and only the next printable character wraps. libedit relies on this (`xenl`).
    private var wrapPending = false
    private var autoWrap = true
    /// IRM (`CSI 4 h`): libedit inserts characters mid-line through insert mode.
    private var insertMode = false
    /// LNM (`CSI 20 h`): line feed also returns the carriage.
    private var newLineMode = false
    private var scrollTop = 0
    private var scrollBottom: Int
    private var savedCursor: SavedCursor?

    private var parser = ParserState.ground
    private var parameters: [Int?] = []
    private var privateMarker: Unicode.Scalar?
    private var intermediates: [Unicode.Scalar] = []

    private var utf8Value: UInt32 = 0
    private var utf8Remaining = 0
    private var utf8Minimum: UInt32 = 0

    /// The right half of a double-width character; never shown itself.
    private static let continuation: Character = "\u{0}"
    private static let blank: Character = " "

    private struct SavedCursor {
        var row: Int
        var column: Int
        var wrapPending: Bool
    }

    private enum ParserState {
        case ground
        case escape
        case controlSequence
        /// OSC, DCS, SOS, PM and APC: swallowed up to BEL or ST.
        case string
        case stringEscape
    }

    /// Creates a blank screen with the cursor in the top left corner.
    public init(columns: Int = 80, rows: Int = 24) {
        precondition(columns > 0 && rows > 0, "a terminal needs at least one row and one column")
        self.columns = columns
        self.rows = rows
        cells = Array(repeating: Array(repeating: Self.blank, count: columns), count: rows)
        softWrapped = Array(repeating: false, count: rows)
        scrollBottom = rows - 1
    }

    // MARK: - Reading the screen

    /// Every row, with trailing spaces removed.
    public var lines: [String] {
        (0..<rows).map { line(at: $0) }
    }

    /// The rows joined by newlines, without the empty rows at the bottom.
    public var text: String {
        var visible = lines
        while let last = visible.last, last.isEmpty {
            visible.removeLast()
        }
        return visible.joined(separator: "\n")
    }

    /// The row at a zero-based index with trailing spaces removed, or `""` outside the screen.
    public func line(at row: Int) -> String {
        guard cells.indices.contains(row) else { return "" }
        var rendered = render(row: row)
        while rendered.last == " " {
            rendered.removeLast()
        }
        return rendered
    }

    /// Whether the text appears on the screen: within a row, across rows when it contains
    /// newlines, or across a row boundary where the terminal auto-wrapped a long line.
    ///
    /// Blank cells count as spaces, so a prompt with a trailing space (`"qmp> "`) is found
    /// although ``lines`` trims it.
    public func contains(_ needle: String) -> Bool {
        if needle.isEmpty { return true }
        if text.contains(needle) { return true }
        var unwrapped = ""
        for row in 0..<rows {
            unwrapped += render(row: row)
            if !softWrapped[row] {
                unwrapped += "\n"
            }
        }
        return unwrapped.contains(needle)
    }

    /// The screen drawn for a failure message: numbered rows down to the last non-empty one
    /// (or the cursor), and the cursor position.
    public var description: String {
        let lastRow = max(cursorRow, (lines.lastIndex { !$0.isEmpty }) ?? 0)
        var result = "screen \(columns)x\(rows), cursor at row \(cursorRow), column \(cursorColumn):\n"
        let width = String(rows - 1).count
        for row in 0...lastRow {
            let number = String(row)
            result += String(repeating: " ", count: width - number.count) + number + " |" + line(at: row) + "\n"
        }
        return result
    }

    private func render(row: Int) -> String {
        var result = ""
        let cellsInRow = cells[row]
        for (column, cell) in cellsInRow.enumerated() {
            if cell == Self.continuation {
                // Hidden behind its wide character, or orphaned by an erase: then it is blank.
                if column > 0, let lead = cellsInRow[column - 1].unicodeScalars.first,
                    cellsInRow[column - 1] != Self.continuation, Self.width(of: lead) == 2
                {
                    continue
                }
                result.append(" ")
            } else {
                result.append(cell)
            }
        }
        return result
    }

    // MARK: - Feeding output

    /// Interprets output written to the terminal. A UTF-8 sequence or escape sequence may be
    /// split across calls.
    public mutating func feed(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            decode(byte)
        }
    }

    /// Interprets output written to the terminal, given as text.
    public mutating func feed(_ text: String) {
        feed(text.utf8)
    }

    /// Changes the size as a terminal window does: content stays anchored at the top left,
    /// except that rows are dropped from the top if the cursor would fall off the bottom. Lines
    /// are not re-wrapped (xterm does not either).
    public mutating func resize(columns newColumns: Int, rows newRows: Int) {
        precondition(newColumns > 0 && newRows > 0, "a terminal needs at least one row and one column")
        if cursorRow >= newRows {
            let dropped = cursorRow - newRows + 1
            cells.removeFirst(dropped)
            softWrapped.removeFirst(dropped)
            cursorRow -= dropped
        }
        for row in cells.indices {
            if newColumns < columns {
                cells[row].removeLast(columns - newColumns)
                softWrapped[row] = false
            } else {
                cells[row].append(contentsOf: repeatElement(Self.blank, count: newColumns - columns))
            }
        }
        if cells.count > newRows {
            cells.removeLast(cells.count - newRows)
            softWrapped.removeLast(softWrapped.count - newRows)
        }
        while cells.count < newRows {
            cells.append(Array(repeating: Self.blank, count: newColumns))
            softWrapped.append(false)
        }
        columns = newColumns
        rows = newRows
        scrollTop = 0
        scrollBottom = newRows - 1
        cursorColumn = min(cursorColumn, newColumns - 1)
        wrapPending = false
    }

    private mutating func decode(_ byte: UInt8) {
        if utf8Remaining > 0 {
            if byte & 0xC0 == 0x80 {
                utf8Value = utf8Value << 6 | UInt32(byte & 0x3F)
                utf8Remaining -= 1
                if utf8Remaining == 0 {
                    // Overlong forms and surrogates are not characters; show them as xterm does.
                    if utf8Value >= utf8Minimum, let scalar = Unicode.Scalar(utf8Value) {
                        process(scalar)
                    } else {
                        process("\u{FFFD}")
                    }
                }
                return
            }
            // A truncated sequence: mark it, then the byte starts afresh (it may be an ESC).
            utf8Remaining = 0
            process("\u{FFFD}")
        }
        switch byte {
        case 0x00...0x7F:
            process(Unicode.Scalar(byte))
        case 0xC2...0xDF:
            startSequence(value: byte & 0x1F, remaining: 1, minimum: 0x80)
        case 0xE0...0xEF:
            startSequence(value: byte & 0x0F, remaining: 2, minimum: 0x800)
        case 0xF0...0xF4:
            startSequence(value: byte & 0x07, remaining: 3, minimum: 0x10000)
        default:
            process("\u{FFFD}")
        }
    }

    private mutating func startSequence(value: UInt8, remaining: Int, minimum: UInt32) {
        utf8Value = UInt32(value)
        utf8Remaining = remaining
        utf8Minimum = minimum
    }

    private mutating func process(_ scalar: Unicode.Scalar) {
        let value = scalar.value
        switch parser {
        case .ground:
            if value < 0x20 {
                control(scalar)
            } else if value == 0x7F || (0x80...0x9F).contains(value) {
                // DEL and C1 controls: nothing to draw (UTF-8 xterm does not act on C1 either).
            } else {
                draw(scalar)
            }

        case .escape:
            if value < 0x20 {
                control(scalar)
            } else if (0x20...0x2F).contains(value) {
                intermediates.append(scalar)
            } else if intermediates.isEmpty && scalar == "[" {
                parameters = []
                privateMarker = nil
                parser = .controlSequence
            } else if intermediates.isEmpty && "]PX^_".unicodeScalars.contains(scalar) {
                parser = .string
            } else {
                escapeDispatch(scalar)
                parser = .ground
            }

        case .controlSequence:
            switch value {
            case 0x00...0x1F:
                control(scalar)
            case 0x30...0x39:
                let digit = Int(value - 0x30)
                if parameters.isEmpty { parameters.append(nil) }
                // Capped so a hostile or corrupt count cannot overflow.
                parameters[parameters.count - 1] = min((parameters[parameters.count - 1] ?? 0) * 10 + digit, 99_999)
            case 0x3A, 0x3B:
                // Sub-parameters (`:`) only matter for SGR, which is ignored anyway.
                if parameters.isEmpty { parameters.append(nil) }
                parameters.append(nil)
            case 0x3C...0x3F:
                if parameters.isEmpty && intermediates.isEmpty && privateMarker == nil {
                    privateMarker = scalar
                } else {
                    privateMarker = "!"  // malformed: dispatched as unknown, i.e. ignored
                }
            case 0x20...0x2F:
                intermediates.append(scalar)
            case 0x40...0x7E:
                controlSequenceDispatch(scalar)
                parser = .ground
            default:
                // DEL is ignored inside sequences; anything else means the sequence was garbage.
                if value != 0x7F { parser = .ground }
            }

        case .string:
            switch value {
            case 0x07, 0x9C:
                parser = .ground
            case 0x18, 0x1A:
                parser = .ground
            case 0x1B:
                parser = .stringEscape
            default:
                break
            }

        case .stringEscape:
            if scalar == "\\" {
                parser = .ground
            } else {
                // An ESC that is not ST ends the string and starts a new sequence, as in xterm.
                beginEscape()
                process(scalar)
            }
        }
    }

    private mutating func beginEscape() {
        parser = .escape
        intermediates = []
    }

    // MARK: - Controls and sequences

    private mutating func control(_ scalar: Unicode.Scalar) {
        switch scalar.value {
        case 0x08:
            wrapPending = false
            if cursorColumn > 0 { cursorColumn -= 1 }
        case 0x09:
            tab(forward: 1)
        case 0x0A, 0x0B, 0x0C:
            wrapPending = false
            index()
            if newLineMode { cursorColumn = 0 }
        case 0x0D:
            wrapPending = false
            cursorColumn = 0
        case 0x18, 0x1A:
            // CAN and SUB cancel a sequence in progress.
            parser = .ground
        case 0x1B:
            beginEscape()
        default:
            // BEL, NUL, shift-in/out and the rest draw nothing.
            break
        }
    }

    private mutating func escapeDispatch(_ final: Unicode.Scalar) {
        // With intermediates these are charset designations (`ESC ( B`), `ESC # 8` and similar:
        // nothing that changes the text.
        guard intermediates.isEmpty else { return }
        switch final {
        case "7":
            saveCursor()
        case "8":
            restoreCursor()
        case "D":
            wrapPending = false
            index()
        case "E":
            wrapPending = false
            index()
            cursorColumn = 0
        case "M":
            wrapPending = false
            reverseIndex()
        case "c":
            self = TerminalScreen(columns: columns, rows: rows)
        default:
            break
        }
    }

    private func parameter(_ index: Int, default defaultValue: Int = 1) -> Int {
        guard index < parameters.count, let value = parameters[index], value != 0 else { return defaultValue }
        return value
    }

    private mutating func controlSequenceDispatch(_ final: Unicode.Scalar) {
        if let marker = privateMarker {
            if marker == "?" && (final == "h" || final == "l") {
                for case let mode? in parameters where mode == 7 {
                    autoWrap = final == "h"
                    if !autoWrap { wrapPending = false }
                }
            }
            // Other private modes (cursor keys, bracketed paste, alternate screen...) and
            // queries leave the text alone.
            return
        }
        guard intermediates.isEmpty else { return }

        let count = parameter(0)
        switch final {
        case "A":
            moveCursor(toRow: cursorRow - count, clampToMargins: true)
        case "B", "e":
            moveCursor(toRow: cursorRow + count, clampToMargins: true)
        case "C", "a":
            moveCursor(toColumn: cursorColumn + count)
        case "D":
            moveCursor(toColumn: cursorColumn - count)
        case "E":
            moveCursor(toRow: cursorRow + count, clampToMargins: true)
            cursorColumn = 0
        case "F":
            moveCursor(toRow: cursorRow - count, clampToMargins: true)
            cursorColumn = 0
        case "G", "`":
            moveCursor(toColumn: count - 1)
        case "d":
            moveCursor(toRow: count - 1, clampToMargins: false)
        case "H", "f":
            moveCursor(toRow: count - 1, clampToMargins: false)
            moveCursor(toColumn: parameter(1) - 1)
        case "I":
            tab(forward: count)
        case "Z":
            tab(forward: -count)
        case "J":
            eraseInDisplay(parameter(0, default: 0))
        case "K":
            eraseInLine(parameter(0, default: 0))
        case "@":
            insertBlanks(count)
        case "P":
            deleteCharacters(count)
        case "X":
            wrapPending = false
            let end = min(columns, cursorColumn + count)
            erase(row: cursorRow, from: cursorColumn, to: end)
        case "L":
            insertLines(count)
        case "M":
            deleteLines(count)
        case "S":
            scrollUp(count)
        case "T":
            // With several parameters this is xterm's mouse highlight tracking, not a scroll.
            if parameters.count <= 1 { scrollDown(count) }
        case "r":
            let top = parameter(0) - 1
            let bottom = min(parameter(1, default: rows), rows) - 1
            if top < bottom {
                scrollTop = top
                scrollBottom = bottom
                moveCursor(toRow: 0, clampToMargins: false)
                moveCursor(toColumn: 0)
            }
        case "s":
            saveCursor()
        case "u":
            restoreCursor()
        case "h", "l":
            for case let mode? in parameters {
                if mode == 4 { insertMode = final == "h" }
                if mode == 20 { newLineMode = final == "h" }
            }
        default:
            // SGR (`m`), device reports and everything unknown.
            break
        }
    }

    // MARK: - Editing the grid

    private mutating func draw(_ scalar: Unicode.Scalar) {
        let width = min(Self.width(of: scalar), columns)
        if width == 0 {
            combine(scalar)
            return
        }
        if wrapPending {
            wrapPending = false
            if autoWrap {
                softWrapped[cursorRow] = true
                cursorColumn = 0
                index()
            }
        }
        if cursorColumn + width > columns {
            // A wide character does not fit in the last column: xterm leaves it blank and wraps.
            if autoWrap {
                erase(row: cursorRow, from: cursorColumn, to: columns)
                softWrapped[cursorRow] = true
                cursorColumn = 0
                index()
            } else {
                cursorColumn = columns - width
            }
        }
        if insertMode {
            shiftRight(row: cursorRow, at: cursorColumn, by: width)
        }
        put(Character(scalar), row: cursorRow, column: cursorColumn)
        if width == 2 {
            put(Self.continuation, row: cursorRow, column: cursorColumn + 1)
        }
        if cursorColumn + width >= columns {
            cursorColumn = columns - 1
            wrapPending = autoWrap
        } else {
            cursorColumn += width
        }
    }

    private mutating func put(_ character: Character, row: Int, column: Int) {
        let old = cells[row][column]
        // Overwriting half of a wide character blanks the other half, as terminals do.
        if old == Self.continuation, character != Self.continuation, column > 0 {
            cells[row][column - 1] = Self.blank
        }
        if old != Self.continuation, let lead = old.unicodeScalars.first, Self.width(of: lead) == 2,
            column + 1 < columns, cells[row][column + 1] == Self.continuation
        {
            cells[row][column + 1] = Self.blank
        }
        cells[row][column] = character
    }

    /// Attaches a combining mark to the character before the cursor.
    private mutating func combine(_ scalar: Unicode.Scalar) {
        var column = wrapPending ? cursorColumn : cursorColumn - 1
        if column >= 0, cells[cursorRow][column] == Self.continuation { column -= 1 }
        guard column >= 0 else { return }
        var combined = String(cells[cursorRow][column])
        combined.unicodeScalars.append(scalar)
        if combined.count == 1, let character = combined.first {
            cells[cursorRow][column] = character
        }
    }

    private mutating func tab(forward stops: Int) {
        wrapPending = false
        if stops > 0 {
            for _ in 0..<stops {
                cursorColumn = min(columns - 1, (cursorColumn / 8 + 1) * 8)
            }
        } else {
            for _ in 0..<(-stops) {
                cursorColumn = max(0, ((cursorColumn - 1) / 8) * 8)
            }
        }
    }

    private mutating func moveCursor(toRow row: Int, clampToMargins: Bool) {
        wrapPending = false
        var top = 0
        var bottom = rows - 1
        // Relative movement stops at the scroll margins when starting inside them.
        if clampToMargins && cursorRow >= scrollTop && cursorRow <= scrollBottom {
            top = scrollTop
            bottom = scrollBottom
        }
        cursorRow = min(max(row, top), bottom)
    }

    private mutating func moveCursor(toColumn column: Int) {
        wrapPending = false
        cursorColumn = min(max(column, 0), columns - 1)
    }

    private mutating func saveCursor() {
        savedCursor = SavedCursor(row: cursorRow, column: cursorColumn, wrapPending: wrapPending)
    }

    private mutating func restoreCursor() {
        let saved = savedCursor ?? SavedCursor(row: 0, column: 0, wrapPending: false)
        cursorRow = min(saved.row, rows - 1)
        cursorColumn = min(saved.column, columns - 1)
        wrapPending = saved.wrapPending
    }

    private mutating func index() {
        if cursorRow == scrollBottom {
            scrollUp(1)
        } else if cursorRow < rows - 1 {
            cursorRow += 1
        }
    }

    private mutating func reverseIndex() {
        if cursorRow == scrollTop {
            scrollDown(1)
        } else if cursorRow > 0 {
            cursorRow -= 1
        }
    }

    private func blankRow() -> [Character] {
        Array(repeating: Self.blank, count: columns)
    }

    private mutating func scrollUp(_ count: Int, from top: Int? = nil) {
        let top = top ?? scrollTop
        let count = min(count, scrollBottom - top + 1)
        guard count > 0 else { return }
        cells.removeSubrange(top..<(top + count))
        softWrapped.removeSubrange(top..<(top + count))
        let insertion = scrollBottom - count + 1
        cells.insert(contentsOf: repeatElement(blankRow(), count: count), at: insertion)
        softWrapped.insert(contentsOf: repeatElement(false, count: count), at: insertion)
    }

    private mutating func scrollDown(_ count: Int, from top: Int? = nil) {
        let top = top ?? scrollTop
        let count = min(count, scrollBottom - top + 1)
        guard count > 0 else { return }
        cells.removeSubrange((scrollBottom - count + 1)...scrollBottom)
        softWrapped.removeSubrange((scrollBottom - count + 1)...scrollBottom)
        cells.insert(contentsOf: repeatElement(blankRow(), count: count), at: top)
        softWrapped.insert(contentsOf: repeatElement(false, count: count), at: top)
    }

    private mutating func insertLines(_ count: Int) {
        guard cursorRow >= scrollTop && cursorRow <= scrollBottom else { return }
        scrollDown(count, from: cursorRow)
        cursorColumn = 0
        wrapPending = false
    }

    private mutating func deleteLines(_ count: Int) {
        guard cursorRow >= scrollTop && cursorRow <= scrollBottom else { return }
        scrollUp(count, from: cursorRow)
        cursorColumn = 0
        wrapPending = false
    }

    private mutating func erase(row: Int, from start: Int, to end: Int) {
        guard start < end else { return }
        for column in start..<end {
            cells[row][column] = Self.blank
        }
        softWrapped[row] = false
    }

    private mutating func eraseInLine(_ mode: Int) {
        wrapPending = false
        switch mode {
        case 0: erase(row: cursorRow, from: cursorColumn, to: columns)
        case 1: erase(row: cursorRow, from: 0, to: cursorColumn + 1)
        case 2: erase(row: cursorRow, from: 0, to: columns)
        default: break
        }
    }

    private mutating func eraseInDisplay(_ mode: Int) {
        wrapPending = false
        switch mode {
        case 0:
            erase(row: cursorRow, from: cursorColumn, to: columns)
            for row in (cursorRow + 1)..<rows { erase(row: row, from: 0, to: columns) }
        case 1:
            for row in 0..<cursorRow { erase(row: row, from: 0, to: columns) }
            erase(row: cursorRow, from: 0, to: cursorColumn + 1)
        case 2:
            for row in 0..<rows { erase(row: row, from: 0, to: columns) }
        default:
            // 3 clears only the scrollback, which this model does not keep.
            break
        }
    }

    private mutating func shiftRight(row: Int, at column: Int, by count: Int) {
        let count = min(count, columns - column)
        guard count > 0 else { return }
        cells[row].removeLast(count)
        cells[row].insert(contentsOf: repeatElement(Self.blank, count: count), at: column)
    }

    private mutating func insertBlanks(_ count: Int) {
        wrapPending = false
        shiftRight(row: cursorRow, at: cursorColumn, by: count)
    }

    private mutating func deleteCharacters(_ count: Int) {
        wrapPending = false
        let count = min(count, columns - cursorColumn)
        cells[cursorRow].removeSubrange(cursorColumn..<(cursorColumn + count))
        cells[cursorRow].append(contentsOf: repeatElement(Self.blank, count: count))
    }

    // MARK: - Character width

    private static let wideRanges: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
        0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60,
        0xFFE0...0xFFE6, 0x20000...0x2FFFD, 0x30000...0x3FFFD,
    ]

    /// Columns a character occupies, approximating wcwidth(3): combining marks take none, East
    /// Asian wide characters and emoji take two. (The test process runs in the C locale, so the
    /// C library's wcwidth cannot be asked.)
    static func width(of scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        if value < 0x300 { return 1 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark:
            return 0
        default:
            break
        }
        if (0x200B...0x200F).contains(value) || value == 0x2060 || value == 0xFEFF {
            return 0
        }
        if scalar.properties.isEmojiPresentation {
            return 2
        }
        return wideRanges.contains { $0.contains(value) } ? 2 : 1
    }
}
