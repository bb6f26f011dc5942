import CEditLine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The terminal thread of a ``LineEditor``: libedit, the prompt, the signals and every byte
/// written to the terminal.
///
/// Not thread-safe, and needs not be: it is set up by ``LineEditor/init`` before the thread
/// starts, then used by that thread alone (``run()``), which learns about other threads'
/// requests through the ``TerminalMailbox`` and about signals through a self-pipe.
///
/// libedit runs in `EL_UNBUFFERED` mode: each `el_gets` call handles one key (or escape
/// sequence) and returns, so between keys the thread can print above the prompt. The terminal
/// is in libedit's raw mode only while a line is being read.
final class TerminalSession {
    private let mailbox: TerminalMailbox
    private let editLine: OpaquePointer
    private let history: OpaquePointer
    private let historyFile: HistoryFile?
    private let completer: (@Sendable (String) -> CompletionResult)?
    private let onInterrupt: (@Sendable () -> Void)?
    /// Signal numbers arrive here, one byte each (written by the C handler in the shim).
    private let signalReadFD: Int32
    private let signalWriteFD: Int32

    /// What the prompt function hands libedit; owned (strdup'ed) by this object.
    private var promptCString: UnsafeMutablePointer<CChar>
    /// The same prompt as scalars, for the layout.
    private var promptScalars: [UInt32] = []
    /// The read whose line is being edited, if any.
    private var active: TerminalMailbox.ReadRequest?
    /// Reads requested while another was active, in order.
    private var waiting: [TerminalMailbox.ReadRequest] = []
    /// Text printed since the terminal was last written, to show in one go.
    private var pendingOutput = ""
    private var historyChanged = false
    private var tornDown = false

    init(
        mailbox: TerminalMailbox,
        historyFile: HistoryFile?,
        historySize: Int,
        completer: (@Sendable (String) -> CompletionResult)?,
        onInterrupt: (@Sendable () -> Void)?
    ) throws {
        // Before libedit starts, or UTF-8 input displays wrongly.
        _ = setlocale(LC_CTYPE, "")

        var fds: [Int32] = [-1, -1]
        guard qmpshell_pipe(&fds) == 0 else {
            throw LineEditorError(description: "could not create a pipe: \(String(cString: strerror(errno)))")
        }
        guard qmpshell_install_signal_handlers(fds[1]) == 0 else {
            let code = errno
            _ = close(fds[0])
            _ = close(fds[1])
            throw LineEditorError(
                description: code == EBUSY
                    ? "another line editor is already open in this process"
                    : "could not catch signals: \(String(cString: strerror(code)))")
        }
        _ = qmpshell_save_terminal_mode()
        guard let editLine = qmpshell_el_init("qmp-shell"),
            let history = qmpshell_history_init(Int32(clamping: max(historySize, 1)))
        else {
            qmpshell_forget_terminal_mode()
            qmpshell_restore_signal_handlers()
            _ = close(fds[0])
            _ = close(fds[1])
            throw LineEditorError(description: "could not set up line editing on this terminal")
        }

        self.mailbox = mailbox
        self.editLine = editLine
        self.history = history
        self.historyFile = historyFile
        self.completer = completer
        self.onInterrupt = onInterrupt
        self.signalReadFD = fds[0]
        self.signalWriteFD = fds[1]
        self.promptCString = strdup("")
        configure()
    }

    private func configure() {
        // Lets the C callbacks below find this object; it outlives the EditLine.
        _ = qmpshell_el_set_clientdata(editLine, Unmanaged.passUnretained(self).toOpaque())
        _ = qmpshell_el_set_prompt(editLine) { editLine in
            guard let session = TerminalSession.owner(of: editLine) else { return qmpshell_empty_prompt() }
            return session.promptCString
        }
        _ = qmpshell_el_set_editor(editLine, "emacs")
        // libedit's own handlers would re-raise SIGINT to the whole process group.
        _ = qmpshell_el_set_signal(editLine, 0)
        _ = qmpshell_el_set_history(editLine, history)
        _ = qmpshell_el_add_function(editLine, "qmp-complete", "Complete the word before the cursor") { editLine, _ in
            guard let session = TerminalSession.owner(of: editLine) else { return UInt8(CC_ERROR) }
            return session.complete()
        }
        _ = qmpshell_el_bind(editLine, "^I", "qmp-complete")
        _ = qmpshell_el_bind(editLine, "^R", "em-inc-search-prev")
        // ~/.editrc (or $EDITRC) last, so the user's bindings win.
        _ = el_source(editLine, nil)

        if let historyFile, let problem = historyFile.load(into: history) {
            mailbox.reportHistoryProblem(problem)
        }
    }

    private static func owner(of editLine: OpaquePointer?) -> TerminalSession? {
        guard let editLine, let data = qmpshell_el_get_clientdata(editLine) else { return nil }
        return Unmanaged<TerminalSession>.fromOpaque(data).takeUnretainedValue()
    }

    // MARK: - The thread

    /// Serves requests until the editor is closed, then tears everything down.
    func run() {
        while true {
            let batch = mailbox.take()
            for request in batch.requests {
                switch request {
                case .print(let text):
                    pendingOutput += text
                case .read(let read):
                    if active == nil {
                        start(read)
                    } else {
                        waiting.append(read)
                    }
                }
            }
            if !batch.cancelledReads.isEmpty {
                cancel(batch.cancelledReads)
            }
            flushOutput()
            if batch.closeRequested { break }
            waitForEvents()
        }

        if active != nil {
            abandonLine(with: .endOfInput, marker: "")
        }
        for read in waiting {
            mailbox.forgetRead(read.id)
            read.continuation.resume(returning: .endOfInput)
        }
        waiting.removeAll()
        tearDown()
        // Anything requested meanwhile, then the mailbox closes behind it.
        while true {
            let requests = mailbox.takeRemainingOrClose()
            if requests.isEmpty { break }
            for request in requests {
                switch request {
                case .print(let text): TerminalOutput.write(text)
                case .read(let read): read.continuation.resume(returning: .endOfInput)
                }
            }
        }
    }

    /// Gives the terminal back: saves the history, restores the terminal mode and the signal
    /// handlers. Called once, by the thread as it ends (or by init when the thread cannot start).
    func tearDown() {
        guard !tornDown else { return }
        tornDown = true
        saveHistory()
        el_end(editLine)
        history_end(history)
        qmpshell_restore_signal_handlers()
        qmpshell_forget_terminal_mode()
        _ = close(signalReadFD)
        _ = close(signalWriteFD)
        free(promptCString)
    }

    /// Sleeps until a request, a signal or (while reading) a key arrives, and handles the last two.
    private func waitForEvents() {
        var fds = [
            pollfd(fd: mailbox.wakeReadFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: signalReadFD, events: Int16(POLLIN), revents: 0),
        ]
        if active != nil {
            fds.append(pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0))
        }
        guard poll(&fds, nfds_t(fds.count), -1) > 0 else { return }  // EINTR: the caller loops
        if fds[0].revents != 0 {
            mailbox.drainWakeUps()
        }
        if fds[1].revents != 0 {
            handleSignals()
        }
        if fds.count > 2, fds[2].revents != 0, active != nil {
            handleKey(events: fds[2].revents)
        }
    }

    // MARK: - Reading a line

    private func start(_ read: TerminalMailbox.ReadRequest) {
        flushOutput()  // what was printed before this read goes above its prompt
        active = read
        setPrompt(read.prompt)
        // Raw mode, and libedit draws the prompt.
        _ = qmpshell_el_set_unbuffered(editLine, 1)
    }

    private func setPrompt(_ prompt: String) {
        free(promptCString)
        promptCString = strdup(prompt)
        promptScalars = prompt.unicodeScalars.map(\.value)
    }

    /// Lets libedit handle the key(s) waiting on standard input.
    private func handleKey(events: Int16) {
        // A hung-up terminal polls readable (or as an error) with nothing to read.
        if events & Int16(POLLIN) == 0 || qmpshell_bytes_available(STDIN_FILENO) == 0 {
            finishRead(with: .endOfInput)
            return
        }
        errno = 0
        var count: Int32 = 0
        guard let line = el_gets(editLine, &count) else {
            // In unbuffered mode an empty line still being edited also comes back as NULL,
            // without an error.
            if count < 0 && errno != 0 && errno != EINTR && errno != EAGAIN {
                finishRead(with: .endOfInput)
            }
            return
        }
        let bytes = UnsafeRawBufferPointer(start: line, count: Int(max(count, 0)))
        if bytes.last == UInt8(ascii: "\n") {
            // Enter: libedit has moved the cursor below the line.
            let text = String(decoding: bytes.dropLast(), as: UTF8.self)
            remember(text)
            finishRead(with: .line(text))
        } else if bytes.count == 1 && bytes[0] == 0x04 {
            // Ctrl-D on an empty line; libedit echoed ^D.
            TerminalOutput.write("\n")
            finishRead(with: .endOfInput)
        }
        // Otherwise the line is still being edited.
    }

    /// Ends the active read: normal terminal mode, the caller resumes, the next read starts.
    private func finishRead(with input: LineInput) {
        guard let read = active else { return }
        active = nil
        _ = qmpshell_el_set_unbuffered(editLine, 0)
        mailbox.forgetRead(read.id)
        read.continuation.resume(returning: input)
        if !waiting.isEmpty {
            start(waiting.removeFirst())
        }
    }

    /// Ends the active read leaving the half-typed line on screen, followed by `marker` and a
    /// newline.
    private func abandonLine(with input: LineInput, marker: String) {
        moveCursorToEndOfLine()
        TerminalOutput.write(marker + "\n")
        finishRead(with: input)
    }

    private func cancel(_ ids: Set<UInt64>) {
        if let read = active, ids.contains(read.id) {
            abandonLine(with: .endOfInput, marker: "")
        }
        waiting.removeAll { read in
            guard ids.contains(read.id) else { return false }
            mailbox.forgetRead(read.id)
            read.continuation.resume(returning: .endOfInput)
            return true
        }
    }

    // MARK: - Drawing

    /// Writes what was printed: above the prompt while a line is being read.
    private func flushOutput() {
        guard !pendingOutput.isEmpty else { return }
        let text = pendingOutput
        pendingOutput = ""
        guard active != nil else {
            TerminalOutput.write(text)
            return
        }
        // Up to the prompt's first row, clear from there down, print, and let libedit draw the
        // prompt and the line again below, with the cursor where it was.
        TerminalOutput.write(cursorToPromptStart() + "\u{1b}[J" + text + (text.hasSuffix("\n") ? "" : "\n"))
        _ = qmpshell_el_refresh(editLine)
    }

    /// The escape sequence from the cursor to the first column of the prompt's first row.
    private func cursorToPromptStart() -> String {
        let row = lineRow(atEnd: false)
        return (row > 0 ? "\u{1b}[\(row)A" : "") + "\r"
    }

    /// Puts the cursor after the last character of the line, on screen and in libedit.
    private func moveCursorToEndOfLine() {
        guard let info = el_wline(editLine)?.pointee else { return }
        let toEnd = info.lastchar - info.cursor
        TerminalOutput.write(cursorToPromptStart())
        if toEnd > 0 {
            _ = el_cursor(editLine, Int32(clamping: toEnd))
        }
        _ = qmpshell_el_refresh(editLine)
    }

    /// The row (counted from the prompt's first row) of the cursor, or of the line's end.
    private func lineRow(atEnd: Bool) -> Int {
        guard let info = el_wline(editLine)?.pointee, let buffer = info.buffer, let cursor = info.cursor,
            let lastChar = info.lastchar
        else { return 0 }
        let count = lastChar - buffer
        let line = (0..<count).map { UInt32(bitPattern: buffer[$0]) }
        return layout.row(prompt: promptScalars, line: line, index: atEnd ? count : cursor - buffer)
    }

    /// The terminal size libedit currently lays the line out for.
    private var layout: TerminalLayout {
        let columns = Int(qmpshell_el_terminal_number(editLine, "co"))
        let rows = Int(qmpshell_el_terminal_number(editLine, "li"))
        return TerminalLayout(columns: columns > 0 ? columns : 80, rows: rows > 0 ? rows : 24)
    }

    // MARK: - Signals

    private func handleSignals() {
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { read(signalReadFD, $0.baseAddress, $0.count) }
        guard count > 0 else { return }
        let signals = Set(buffer[..<count].map(Int32.init))
        if signals.contains(SIGCONT) {
            resumeAfterStop()
        }
        if signals.contains(SIGWINCH) {
            resize()
        }
        if signals.contains(SIGINT) {
            if active != nil {
                abandonLine(with: .interrupted, marker: "^C")
            } else {
                onInterrupt?()
            }
        }
    }

    /// The window changed size: clear the prompt's rows as they were laid out, learn the new
    /// size, redraw.
    private func resize() {
        guard active != nil else {
            el_resize(editLine)
            return
        }
        TerminalOutput.write(cursorToPromptStart() + "\u{1b}[J")
        el_resize(editLine)
        _ = qmpshell_el_refresh(editLine)
    }

    /// Back from Ctrl-Z (or SIGSTOP): the job's shell may have changed the terminal mode and
    /// written on the screen, so enter raw mode again and redraw on a fresh row.
    private func resumeAfterStop() {
        guard active != nil else { return }
        _ = qmpshell_el_prep_term(editLine, 0)
        _ = qmpshell_el_prep_term(editLine, 1)
        TerminalOutput.write("\r\u{1b}[J")
        el_resize(editLine)
        _ = qmpshell_el_refresh(editLine)
    }

    // MARK: - History

    private func remember(_ line: String) {
        guard line.contains(where: { !$0.isWhitespace }) else { return }
        _ = qmpshell_history_enter(history, line)
        historyChanged = true
        saveHistory()
    }

    private func saveHistory() {
        guard historyChanged, let historyFile else { return }
        historyChanged = false
        if let problem = historyFile.save(from: history) {
            mailbox.reportHistoryProblem(problem)
        }
    }

    // MARK: - Completion

    /// Tab: asks the completer about the text before the cursor. One candidate replaces the
    /// word; several insert their longest common prefix, or, when that adds nothing, are listed
    /// below the line; none beeps. Returns a libedit CC_* code.
    private func complete() -> UInt8 {
        guard let completer, let info = el_line(editLine)?.pointee, let buffer = info.buffer,
            let cursor = info.cursor
        else { return UInt8(CC_ERROR) }
        let before = String(decoding: UnsafeRawBufferPointer(start: buffer, count: cursor - buffer), as: UTF8.self)
        let result = completer(before)
        let word = String(before.suffix(max(result.replacementLength, 0)))
        let candidates = result.candidates

        guard let first = candidates.first else { return UInt8(CC_ERROR) }
        if candidates.count == 1 {
            return replace(word, with: first) ? UInt8(CC_REFRESH) : UInt8(CC_NORM)
        }
        let prefix = candidates.dropFirst().reduce(first) { String($0.commonPrefix(with: $1)) }
        if prefix.count > word.count && prefix.hasPrefix(word) {
            return replace(word, with: prefix) ? UInt8(CC_REFRESH) : UInt8(CC_NORM)
        }
        listBelowLine(candidates)
        return UInt8(CC_NORM)
    }

    /// Replaces `word`, just before the cursor, with `replacement`. Returns whether the line
    /// changed.
    private func replace(_ word: String, with replacement: String) -> Bool {
        guard replacement != word else { return false }
        if replacement.hasPrefix(word) {
            return el_insertstr(editLine, String(replacement.dropFirst(word.count))) == 0
        }
        el_deletestr(editLine, Int32(clamping: word.unicodeScalars.count))
        if !replacement.isEmpty {
            _ = el_insertstr(editLine, replacement)
        }
        return true
    }

    /// Prints `candidates` in columns under the line, like bash, and redraws the prompt below.
    private func listBelowLine(_ candidates: [String]) {
        let rowsDown = lineRow(atEnd: true) - lineRow(atEnd: false)
        var text = rowsDown > 0 ? "\u{1b}[\(rowsDown)B" : ""
        text += "\r\n" + layout.columnize(candidates).joined(separator: "\n") + "\n"
        TerminalOutput.write(text)
        // Redrawn here rather than with CC_REDISPLAY, which first clears the rows libedit
        // believes the line still occupies: on a wrapped line, the last rows of the list.
        _ = qmpshell_el_refresh(editLine)
    }
}

extension String {
    fileprivate func commonPrefix(with other: String) -> Substring {
        var end = startIndex
        var otherIndex = other.startIndex
        while end < endIndex, otherIndex < other.endIndex, self[end] == other[otherIndex] {
            formIndex(after: &end)
            other.formIndex(after: &otherIndex)
        }
        return self[..<end]
    }
}
