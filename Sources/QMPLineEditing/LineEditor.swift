import ShellSystem
import QMPLineSyntax
import Synchronization

import Glibc

/// What one ``LineEditor/readLine(prompt:)`` call got from the user.
public enum LineInput: Sendable, Equatable {
    /// A line entered with Enter, without the newline.
    case line(String)
    /// Ctrl-C: the line being typed was abandoned (it stays on screen followed by `^C`); prompt
    /// again.
    case interrupted
    /// No more input: Ctrl-D on an empty line, the terminal hung up, the editor was closed, or
    /// the task reading was cancelled.
    case endOfInput
}

/// The line editor could not take over the terminal.
public struct LineEditorError: Error, CustomStringConvertible {
    public let description: String
}

/// Reads lines from the terminal with editing, history and Tab completion (libedit), while
/// other tasks print above the prompt.
///
/// One thread of its own owns the terminal: it runs libedit, draws the prompt and writes every
/// byte this class prints, so output never tears the line being typed. Printing while a line is
/// being read moves the prompt and the half-typed line down and redraws them intact, with the
/// cursor where it was.
///
/// Keys: emacs bindings (or what `~/.editrc` says), Up/Down for history, Ctrl-R incremental
/// history search, Tab completion, Ctrl-C abandons the line, Ctrl-D on an empty line ends input.
///
/// Standard input must be a terminal (read plain lines otherwise). Only one editor can be open
/// in a process: it catches SIGINT, SIGQUIT, SIGWINCH and SIGCONT until ``close()``. Call ``close()``
/// before exiting, so the terminal mode and the history are saved; if the program exits without
/// it, the terminal mode is still put back at exit.
public final class LineEditor: Sendable {
    private let mailbox: TerminalMailbox
    /// The terminal thread until it is joined.
    private let thread: Mutex<pthread_t?>

    /// Takes over the terminal.
    ///
    /// - Parameters:
    ///   - historyFile: Where history is loaded from now and saved to after each line, or nil
    ///     for history in memory only. The file is created with mode 0600. A file that cannot
    ///     be read or written does not stop the editor: see ``historyProblem``.
    ///   - historySize: How many entries history keeps.
    ///   - completer: Called on Tab with the text before the cursor, on the terminal thread,
    ///     while nothing else is drawn: it should answer quickly.
    ///   - onInterrupt: Called on the terminal thread when Ctrl-C is pressed while no line is
    ///     being read (say, to cancel a long wait). Ctrl-C during ``readLine(prompt:)`` only
    ///     returns ``LineInput/interrupted``.
    /// - Throws: ``LineEditorError`` if standard input is not a terminal, the terminal cannot be
    ///   set up, or another editor is open.
    public init(
        historyFile: String?,
        historySize: Int = 1000,
        completer: (@Sendable (_ lineBeforeCursor: String) -> CompletionResult)?,
        onInterrupt: (@Sendable () -> Void)? = nil
    ) throws {
        let mailbox = try TerminalMailbox()
        let session = try TerminalSession(
            mailbox: mailbox,
            historyFile: historyFile.map { HistoryFile(path: $0, limit: max(historySize, 1)) },
            historySize: historySize,
            completer: completer,
            onInterrupt: onInterrupt
        )
        // The session, with the EditLine it set up, belongs to the thread from here on.
        var handle = pthread_t()
        let context = Unmanaged.passRetained(session).toOpaque()
        let result = pthread_create(
            &handle, nil,
            { context in
                let session = Unmanaged<TerminalSession>.fromOpaque(context!).takeRetainedValue()
                session.run()
                return nil
            }, context)
        guard result == 0 else {
            let session = Unmanaged<TerminalSession>.fromOpaque(context).takeRetainedValue()
            session.tearDown()
            throw LineEditorError(
                description: "could not start the terminal thread: \(errnoText(result))")
        }
        self.mailbox = mailbox
        self.thread = Mutex(handle)
    }

    deinit {
        close()
    }

    /// Shows `prompt` and reads one line. Calls to ``print(_:)`` may happen meanwhile: their
    /// text appears above the prompt.
    ///
    /// Reads are served one at a time, in call order. After ``close()``, or when the calling
    /// task is cancelled, it returns ``LineInput/endOfInput`` (a half-typed line stays on screen).
    public func readLine(prompt: String) async -> LineInput {
        await readLine(prompt: { prompt })
    }

    /// Reads one line as the call with a fixed prompt does, asking `prompt` for the prompt when the
    /// read starts and after each ``refreshPrompt()`` (on the terminal thread: it should answer
    /// quickly), so a prompt that shows a changing state (how many servers are connected) stays
    /// true while the user types.
    public func readLine(prompt: @escaping @Sendable () -> String) async -> LineInput {
        let id = mailbox.newReadID()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                mailbox.enqueueRead(TerminalMailbox.ReadRequest(id: id, prompt: prompt, continuation: continuation))
            }
        } onCancel: {
            mailbox.cancelRead(id)
        }
    }

    /// Prints `text` (one or more lines). While a line is being read, the text appears above
    /// the prompt, on lines of its own, and the prompt and half-typed line are redrawn below it.
    /// Otherwise the text is written as is.
    ///
    /// Callable from any thread or task; texts appear in call order, and in order with the
    /// prompts of ``readLine(prompt:)`` calls. It does not wait for the terminal.
    public func print(_ text: String) {
        mailbox.enqueuePrint(text)
    }

    /// Shows `lines` between what was printed and the prompt while a line is being read (live
    /// progress), replacing the previous ones in place; an empty list removes them. Each line is
    /// cut to the terminal's width. They are not shown while no line is being read, and are taken
    /// off the screen when a line is entered, so they never stay in the scrollback.
    public func setStatus(_ lines: [String]) {
        mailbox.setStatus(lines)
    }

    /// Asks the prompt of the line being read for its text again, and redraws it in place (with
    /// the half-typed line) if it changed. Without a read, or with a fixed prompt, it does nothing.
    public func refreshPrompt() {
        mailbox.refreshPrompt()
    }

    /// Bytes passed to ``print(_:)`` that the terminal thread has not taken yet. A producer that
    /// can wait (events) should hold back while this is large: the queue itself has no bound.
    public var pendingOutputBytes: Int {
        mailbox.pendingPrintBytes
    }

    /// The first problem reading or writing the history file, once: later calls return nil, and
    /// so do calls before a problem. The caller reports it (say after each line read). History
    /// keeps working in memory.
    public func takeHistoryProblem() -> String? {
        mailbox.takeHistoryProblem()
    }

    /// Ends a pending read with ``LineInput/endOfInput``, writes what was printed before, saves
    /// the history, puts the terminal back the way it was and stops the thread. Later prints are
    /// written directly; later reads return ``LineInput/endOfInput``. Calling it again does
    /// nothing.
    public func close() {
        mailbox.requestClose()
        let joinable = thread.withLock { handle in
            let taken = handle
            handle = nil
            return taken
        }
        guard let handle = joinable else { return }
        if pthread_equal(handle, pthread_self()) != 0 {
            // Called from a completer or onInterrupt: the thread ends by itself once this returns.
            _ = pthread_detach(handle)
        } else {
            _ = pthread_join(handle, nil)
        }
    }
}
