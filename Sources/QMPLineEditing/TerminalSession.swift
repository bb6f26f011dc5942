import QMPLineSyntax
import ShellSystem
import CEditLine
import CTerminal

import Glibc

/// The terminal thread of a ``LineEditor``: libedit, the prompt, the signals and every byte
/// written to the terminal.
///
/// Not thread-safe, and needs not be: it is set up by ``LineEditor/init`` before the thread
/// starts, then used by that thread alone (``run()``), which learns about other threads'
/// requests through the ``TerminalMailbox`` and about signals through a self-pipe.
///
/// libedit runs in `EL_UNBUFFERED` mode: each `el_gets` call handles one command and returns,
/// so between keys the thread prints above the prompt. libedit reads keys through
/// ``readCharacter(into:)``, which never blocks the thread blindly: a command that waits for
/// more keys (Ctrl-R search, the rest of an escape sequence) keeps serving prints, resizes and
/// Ctrl-C while it waits. The terminal is in libedit's raw mode while a line is being read, and
/// in a type-ahead mode between lines (no echo, no line discipline, signals on) so that keys
/// typed while a command runs, Ctrl-D included, reach the next prompt intact.
final class TerminalSession {
    private let mailbox: TerminalMailbox
    private let editLine: OpaquePointer
    private let history: OpaquePointer
    /// Nil for history in memory only, or once the file has been refused.
    private var historyFile: HistoryFile?
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
    /// The active read's prompt is to be asked again (``LineEditor/refreshPrompt()``).
    private var promptStale = false
    /// The status lines, and how many rows of them are on screen above the prompt now.
    private var status = TerminalStatus()
    private var closeRequested = false
    /// Lines entered since the file was last written, for the file (secrets left out).
    private var unsaved: [String] = []
    private var tornDown = false

    // State of one el_gets call, shared with readCharacter(into:).
    /// Inside el_gets: the line must not be finished or restarted until it returns.
    private var insideEditLine = false
    /// The next character read is the first of this el_gets call: if no key is waiting, fail
    /// at once instead of waiting, so el_gets returns having done nothing.
    private var probing = false
    /// The probe found no key waiting.
    private var probeFoundNothing = false
    /// Reading the terminal failed (hang-up).
    private var readFailed = false
    /// The active read must end (Ctrl-C, close, cancel) once el_gets returns.
    private var pendingAbort: LineInput?
    /// ^G, which ends a Ctrl-R search, was handed to libedit for `pendingAbort`.
    private var abortKeySent = false
    /// The terminal's interrupt and quit characters, read as keys while a line is edited (see
    /// ``takeInterruptKeys()``).
    private var interruptKeys: Set<UInt8> = [0x03, 0x1C]
    /// Keys typed as the last line ended, for the next line (see ``TypeAhead``).
    private var typeAhead = TypeAhead()

    init(
        mailbox: TerminalMailbox,
        historyFile: HistoryFile?,
        historySize: Int,
        completer: (@Sendable (String) -> CompletionResult)?,
        onInterrupt: (@Sendable () -> Void)?
    ) throws {
        guard isatty(STDIN_FILENO) == 1 else {
            throw LineEditorError(description: "standard input is not a terminal")
        }
        // Before libedit starts, or UTF-8 input displays wrongly.
        _ = setlocale(LC_CTYPE, "")

        var fds: [Int32] = [-1, -1]
        guard qmpshell_pipe(&fds) == 0 else {
            throw LineEditorError(description: "could not create a pipe: \(errnoText())")
        }
        guard qmpshell_install_signal_handlers(fds[1]) == 0 else {
            let code = errno
            _ = close(fds[0])
            _ = close(fds[1])
            throw LineEditorError(
                description: code == EBUSY
                    ? "another line editor is already open in this process"
                    : "could not catch signals: \(errnoText(code))")
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
        // After el_init, which has taken the normal mode to restore at the end.
        _ = qmpshell_hold_type_ahead()
    }

    private func configure() {
        // Lets the C callbacks below find this object; it outlives the EditLine.
        _ = qmpshell_el_set_clientdata(editLine, Unmanaged.passUnretained(self).toOpaque())
        _ = qmpshell_el_set_prompt(editLine) { editLine in
            guard let session = TerminalSession.owner(of: editLine) else { return qmpshell_empty_prompt() }
            return session.promptCString
        }
        _ = qmpshell_el_set_read_function(editLine) { editLine, character in
            guard let session = TerminalSession.owner(of: editLine), let character else { return -1 }
            return session.readCharacter(into: character)
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

        if let refusal = historyFile?.refusal() {
            mailbox.reportHistoryProblem(refusal + ": history is kept in memory only")
            historyFile = nil
        } else if let problem = historyFile?.load(into: history) {
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
        serveMailbox()
        while !closeRequested {
            let inputEvents = waitForEvents()
            if inputEvents != 0 && active != nil {
                handleKeys(events: inputEvents)
            }
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
        for read in mailbox.closeWritingRemaining() {
            read.continuation.resume(returning: .endOfInput)
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

    /// Sleeps until a request, a signal or (while reading) a key arrives; serves the first two.
    /// Returns the poll events of standard input (0 when not watched or nothing came).
    private func waitForEvents() -> Int16 {
        var fds = [
            pollfd(fd: mailbox.wakeReadFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: signalReadFD, events: Int16(POLLIN), revents: 0),
        ]
        if active != nil {
            fds.append(pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0))
        }
        guard poll(&fds, nfds_t(fds.count), -1) > 0 else { return 0 }  // EINTR: the caller loops
        if fds[0].revents != 0 {
            mailbox.drainWakeUps()
        }
        // Requests first: a Ctrl-C that comes with the request for the next line then clears
        // that prompt, rather than counting as one for the line that just ended.
        serveMailbox()
        if fds[1].revents != 0 {
            handleSignals()
        }
        return fds.count > 2 ? fds[2].revents : 0
    }

    /// Takes the requests made so far: prints are collected and shown, reads start in turn.
    private func serveMailbox() {
        let batch = mailbox.take()
        for request in batch.requests {
            switch request {
            case .print(let text):
                pendingOutput += text
            case .read(let read):
                waiting.append(read)
            }
        }
        if let lines = batch.status { status.replace(with: lines) }
        if batch.promptStale { promptStale = true }
        if !batch.cancelledReads.isEmpty {
            cancel(batch.cancelledReads)
        }
        if batch.closeRequested && !closeRequested {
            closeRequested = true
            if active != nil && insideEditLine {
                pendingAbort = pendingAbort ?? .endOfInput
            }
        }
        startNextRead()
    }

    // MARK: - Reading a line

    /// Starts the first waiting read if none is active (and the editor is not closing).
    private func startNextRead() {
        guard active == nil, !insideEditLine, !closeRequested, !waiting.isEmpty else {
            flushOutput()
            return
        }
        flushOutput()  // what was printed before this read goes above its prompt
        TerminalOutput.write(status.draw(columns: layout.columns))
        let read = waiting.removeFirst()
        active = read
        promptStale = false
        setPrompt(read.prompt())
        // Raw mode, and libedit draws the prompt.
        _ = qmpshell_el_set_unbuffered(editLine, 1)
        takeInterruptKeys()
        // Keys libedit may still hold (pushed back, or from a macro) are served at once.
        handleKeys(events: 0)
    }

    private func setPrompt(_ prompt: String) {
        free(promptCString)
        promptCString = strdup(prompt)
        promptScalars = prompt.unicodeScalars.map(\.value)
    }

    /// Lets libedit handle every key that is waiting, one command per el_gets call, until it
    /// would have to wait for the terminal or the line is finished.
    private func handleKeys(events: Int16) {
        // A hung-up terminal polls readable (or as an error) with nothing to read.
        if events != 0 && (events & Int16(POLLIN) == 0 || qmpshell_bytes_available(STDIN_FILENO) == 0) {
            finishRead(with: .endOfInput)
            return
        }
        while active != nil {
            probing = true
            probeFoundNothing = false
            readFailed = false
            insideEditLine = true
            var count: Int32 = 0
            let line = el_gets(editLine, &count)
            insideEditLine = false
            probing = false

            if let abort = pendingAbort {
                pendingAbort = nil
                abortKeySent = false
                abandonLine(with: abort, marker: abort == .interrupted ? "^C" : "")
                return
            }
            if let line {
                let bytes = UnsafeRawBufferPointer(start: line, count: Int(max(count, 0)))
                if bytes.last == UInt8(ascii: "\n") {
                    // Enter: libedit has moved the cursor below the line.
                    let text = String(decoding: bytes.dropLast(), as: UTF8.self)
                    dropStatus(lineShown: text)
                    remember(text)
                    finishRead(with: .line(text))
                    return
                }
                if bytes.count == 1 && bytes[0] == 0x04 {
                    // Ctrl-D on an empty line; libedit echoed ^D.
                    TerminalOutput.write("\n")
                    dropStatus(lineShown: "^D")
                    finishRead(with: .endOfInput)
                    return
                }
            }
            if readFailed {
                moveCursorToEndOfLine()
                TerminalOutput.write("\n")
                finishRead(with: .endOfInput)
                return
            }
            if probeFoundNothing {
                return  // the line is still being edited
            }
        }
    }

    /// libedit's source of keys (EL_GETCFN): one character from standard input, decoded as
    /// the locale says. Returns 1, 0 at end of file, or -1 (errno set).
    ///
    /// The first call of an el_gets call only takes a key that is already waiting (see
    /// `probing`). Later calls come from a command that needs more keys; while waiting for
    /// them, requests and signals are served, and if the line must end, ^G is returned (it
    /// ends a Ctrl-R search and is otherwise harmless) so that el_gets returns soon.
    fileprivate func readCharacter(into character: UnsafeMutablePointer<wchar_t>) -> Int32 {
        let isProbe = probing
        probing = false
        // Bytes until they make a character; invalid ones are dropped, as libedit does.
        var bytes: [CChar] = []
        while true {
            if bytes.isEmpty {
                if isProbe {
                    guard keyIsWaiting() else {
                        probeFoundNothing = true
                        errno = EAGAIN
                        return -1
                    }
                } else if let instead = waitForKey(into: character) {
                    return instead
                }
            }
            // The rest of a multi-byte character comes with its first byte: a plain read.
            var byte: CChar = 0
            var count = 1
            if let held = typeAhead.nextByte() {
                byte = CChar(bitPattern: held)
            } else {
                count = read(STDIN_FILENO, &byte, 1)
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                readFailed = true
                character.pointee = 0
                return Int32(count)
            }
            if bytes.isEmpty && interruptKeys.contains(UInt8(bitPattern: byte)) {
                return interrupt(into: character, firstRead: isProbe)
            }
            bytes.append(byte)
            while !bytes.isEmpty {
                var state = mbstate_t()
                var decoded: wchar_t = 0
                let result = mbrtowc(&decoded, bytes, bytes.count, &state)
                if result >= 0 {
                    character.pointee = decoded
                    return 1
                }
                if result == -2 && bytes.count < Int(MB_LEN_MAX) {
                    break  // incomplete: read on
                }
                // Invalid: keep only the last byte, which may start a character of its own.
                bytes = bytes.count > 1 && result == -1 ? [bytes[bytes.count - 1]] : []
            }
        }
    }

    /// Waits for a key while serving requests and signals. Returns nil once a key is waiting,
    /// or what ``readCharacter(into:)`` must return instead: ^G (then -1) when the line must
    /// end, 0 when the terminal hung up.
    private func waitForKey(into character: UnsafeMutablePointer<wchar_t>) -> Int32? {
        while pendingAbort == nil && !keyIsWaiting() {
            if waitForEvents() != 0 && !keyIsWaiting() {
                // Standard input polls readable with nothing to read: the terminal hung up.
                readFailed = true
                character.pointee = 0
                return 0
            }
        }
        guard pendingAbort != nil else { return nil }
        return abortKey(into: character)
    }

    /// Ctrl-C (or Ctrl-\) was read as a key: the line is given up once el_gets returns. As the
    /// first key of an el_gets call, a failed read ends it at once; ^G is only for a command
    /// that waits for more keys (a Ctrl-R search), since libedit otherwise beeps at it.
    private func interrupt(into character: UnsafeMutablePointer<wchar_t>, firstRead: Bool) -> Int32 {
        pendingAbort = pendingAbort ?? .interrupted
        if firstRead {
            abortKeySent = true
            errno = EINTR
            return -1
        }
        return abortKey(into: character)
    }

    /// What makes el_gets return soon when the line must end: ^G, or a failed read if ^G was
    /// already handed over.
    private func abortKey(into character: UnsafeMutablePointer<wchar_t>) -> Int32 {
        if abortKeySent {
            errno = EINTR
            return -1
        }
        abortKeySent = true
        character.pointee = 0x07
        return 1
    }

    /// While a line is edited, the interrupt and quit characters come as keys, in order with
    /// the keys around them: as signals, they overtook keys typed before them that were still
    /// waiting, which then joined the line the user had just abandoned. Between lines they are
    /// signals again (libedit's normal mode restores them), so Ctrl-C stops a running command.
    private func takeInterruptKeys() {
        var keys: (UInt8, UInt8) = (0, 0)
        let taken = withUnsafeMutableBytes(of: &keys) { buffer in
            qmpshell_take_interrupt_keys(buffer.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        // libedit's raw mode has just put back the keys `stty` set: none if both are off.
        if taken == 0 {
            interruptKeys = Set([keys.0, keys.1].filter { $0 != 0 })
        }
    }

    /// Whether a key can be read from standard input without waiting.
    private func keyIsWaiting() -> Bool {
        if !typeAhead.isEmpty { return true }
        var input = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        guard poll(&input, 1, 0) > 0, input.revents & Int16(POLLIN) != 0 else { return false }
        // A hung-up terminal reports readable with nothing to read: let the main loop see it.
        return qmpshell_bytes_available(STDIN_FILENO) != 0
    }

    /// Ends the active read: normal terminal mode, the caller resumes, the next read starts.
    private func finishRead(with input: LineInput) {
        guard let read = active else { return }
        active = nil
        _ = qmpshell_el_set_unbuffered(editLine, 0)
        _ = qmpshell_hold_type_ahead()
        // From here the interrupt key is a signal again; one typed a moment before is in the queue.
        var interrupted = false
        if case .line = input {
            interrupted = typeAhead.takeWaitingKeys(from: STDIN_FILENO, interruptKeys: interruptKeys)
        }
        mailbox.forgetRead(read.id)
        read.continuation.resume(returning: input)
        if interrupted { interruptBetweenLines() }
        startNextRead()
    }

    /// Ends the active read leaving the half-typed line on screen, followed by `marker` and a
    /// newline.
    private func abandonLine(with input: LineInput, marker: String) {
        let shown = lineText() + marker
        moveCursorToEndOfLine()
        TerminalOutput.write(marker + "\n")
        dropStatus(lineShown: shown)
        finishRead(with: input)
    }

    private func cancel(_ ids: Set<UInt64>) {
        if let read = active, ids.contains(read.id) {
            if insideEditLine {
                pendingAbort = pendingAbort ?? .endOfInput
            } else {
                abandonLine(with: .endOfInput, marker: "")
            }
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
        let newPrompt = changedPrompt()
        guard !pendingOutput.isEmpty || (active != nil && (status.changed || newPrompt != nil)) else { return }
        let text = pendingOutput
        pendingOutput = ""
        guard active != nil else {
            TerminalOutput.write(text)
            return
        }
        // Up to the first status row (or the prompt's first row, found with the prompt shown
        // now), clear from there down, print, draw the status, and let libedit draw the prompt
        // (perhaps a new one) and the line again below, with the cursor where it was.
        let printed = text.isEmpty || text.hasSuffix("\n") ? text : text + "\n"
        let clearing = cursorToPromptStart() + status.up + "\u{1b}[J"
        if let newPrompt { setPrompt(newPrompt) }
        TerminalOutput.write(clearing + printed + status.draw(columns: layout.columns))
        _ = qmpshell_el_refresh(editLine)
    }

    /// The active read's prompt, if ``LineEditor/refreshPrompt()`` was called and it differs
    /// from the one shown.
    private func changedPrompt() -> String? {
        guard promptStale, let read = active else { return nil }
        promptStale = false
        let prompt = read.prompt()
        return prompt == String(cString: promptCString) ? nil : prompt
    }

    /// The text of the line being edited.
    private func lineText() -> String {
        guard let info = el_wline(editLine)?.pointee, let buffer = info.buffer, let lastChar = info.lastchar else {
            return ""
        }
        let scalars = (0..<(lastChar - buffer)).compactMap { Unicode.Scalar(UInt32(bitPattern: buffer[$0])) }
        return String(String.UnicodeScalarView(scalars))
    }

    /// Takes the status off the screen once a line is finished (the cursor below it, which
    /// shows `lineShown` after the prompt): the prompt and the line are written again where
    /// the status began, so the scrollback keeps the line and not the progress.
    private func dropStatus(lineShown: String) {
        guard status.shownRows > 0 else { return }
        let scalars = lineShown.unicodeScalars.map(\.value)
        let rows = layout.row(prompt: promptScalars, line: scalars, index: scalars.count) + 1
        TerminalOutput.write(
            "\u{1b}[\(rows + status.shownRows)A\r\u{1b}[J" + String(cString: promptCString) + lineShown + "\n")
        status.shownRows = 0
    }

    /// The escape sequence from the cursor to the first column of the prompt's first row.
    private func cursorToPromptStart() -> String {
        let row = lineRow(atEnd: false)
        return (row > 0 ? "\u{1b}[\(row)A" : "") + "\r"
    }

    /// Puts the cursor after the last character of the line, on screen and in libedit.
    private func moveCursorToEndOfLine() {
        guard let info = el_wline(editLine)?.pointee, let cursor = info.cursor, let lastChar = info.lastchar else {
            return
        }
        let toEnd = lastChar - cursor
        TerminalOutput.write(cursorToPromptStart() + "\u{1b}[J")
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
        // Ctrl-\ (SIGQUIT) is a second Ctrl-C: it must not end the shell with a crash report,
        // and a user who presses it wants the same thing, to get out of what is running.
        if signals.contains(SIGINT) || signals.contains(SIGQUIT) {
            if active == nil {
                interruptBetweenLines()
            } else if insideEditLine {
                pendingAbort = .interrupted
            } else {
                abandonLine(with: .interrupted, marker: "^C")
            }
        }
    }

    /// Ctrl-C while no line is read: the command running is stopped.
    private func interruptBetweenLines() {
        // The type-ahead mode does not echo, so the key is shown here, as in a shell.
        flushOutput()
        TerminalOutput.write("^C\n")
        onInterrupt?()
    }

    /// The window changed size: learn the new size, clear the prompt's rows and redraw.
    ///
    /// The rows are counted at the new width, because terminal emulators that reflow wrapped
    /// lines (tmux, VTE, Konsole, kitty, iTerm2...) have already rewrapped the line to it.
    private func resize() {
        el_resize(editLine)
        guard active != nil else { return }
        TerminalOutput.write(cursorToPromptStart() + "\u{1b}[J")
        _ = qmpshell_el_refresh(editLine)
    }

    /// Back from Ctrl-Z (or SIGSTOP): the job's shell may have changed the terminal mode and
    /// written on the screen, so enter raw mode again and redraw on a fresh row (or, between
    /// lines, the type-ahead mode again).
    private func resumeAfterStop() {
        guard active != nil else {
            _ = qmpshell_hold_type_ahead()
            return
        }
        _ = qmpshell_el_prep_term(editLine, 0)
        _ = qmpshell_el_prep_term(editLine, 1)
        takeInterruptKeys()
        TerminalOutput.write("\r\u{1b}[J")
        el_resize(editLine)
        _ = qmpshell_el_refresh(editLine)
    }

    // MARK: - History

    /// Up-arrow recalls every line of the session; the file gets those without secrets.
    private func remember(_ line: String) {
        guard line.contains(where: { !$0.isWhitespace }) else { return }
        _ = qmpshell_history_enter(history, line)
        guard historyFile != nil, !HistoryFile.isSecret(line) else { return }
        unsaved.append(line)
        saveHistory()
    }

    private func saveHistory() {
        guard !unsaved.isEmpty, let historyFile else { return }
        if let problem = historyFile.append(unsaved) {
            mailbox.reportHistoryProblem(problem)
            // Tried again with the next line; only what the file would keep is kept.
            unsaved = Array(unsaved.suffix(historyFile.limit))
        } else {
            unsaved.removeAll()
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
