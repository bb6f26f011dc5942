import ShellSystem
import CEditLine
import CTerminal
import Synchronization

import Glibc

/// The requests other threads make of the terminal thread, in call order, behind a lock; a
/// byte on the wake-up pipe tells the thread to look.
final class TerminalMailbox: Sendable {
    struct ReadRequest: Sendable {
        let id: UInt64
        /// Asked when the read starts, and again after ``refreshPrompt()``.
        let prompt: @Sendable () -> String
        let continuation: CheckedContinuation<LineInput, Never>
    }

    enum Request: Sendable {
        case print(String)
        case read(ReadRequest)
    }

    struct State: Sendable {
        var requests: [Request] = []
        /// Reads cancelled by their task after the thread took them (or before they arrived).
        var cancelledReads: Set<UInt64> = []
        var closeRequested = false
        /// The thread is gone: print directly, answer reads at once.
        var closed = false
        var nextReadID: UInt64 = 0
        var historyProblem: String?
        var historyProblemTaken = false
        /// Bytes of print requests not yet taken by the terminal thread.
        var pendingPrintBytes = 0
        /// Status lines to show above the prompt from now on, not yet taken.
        var status: [String]?
        /// The active read's prompt may have changed: ask it again.
        var promptStale = false
    }

    /// What the terminal thread takes in one go.
    struct Batch {
        var requests: [Request]
        var cancelledReads: Set<UInt64>
        var closeRequested: Bool
        var status: [String]?
        var promptStale: Bool
    }

    private let state = Mutex(State())
    /// The read end is polled by the terminal thread; both ends are non-blocking.
    let wakeReadFD: Int32
    private let wakeWriteFD: Int32

    init() throws {
        var fds: [Int32] = [-1, -1]
        guard qmpshell_pipe(&fds) == 0 else {
            throw LineEditorError(description: "could not create a pipe: \(errnoText())")
        }
        wakeReadFD = fds[0]
        wakeWriteFD = fds[1]
    }

    deinit {
        _ = close(wakeReadFD)
        _ = close(wakeWriteFD)
    }

    func takeHistoryProblem() -> String? {
        state.withLock { state in
            guard !state.historyProblemTaken, let problem = state.historyProblem else { return nil }
            state.historyProblemTaken = true
            return problem
        }
    }

    func newReadID() -> UInt64 {
        state.withLock { state in
            state.nextReadID += 1
            return state.nextReadID
        }
    }

    func enqueuePrint(_ text: String) {
        let direct = state.withLock { state -> Bool in
            if state.closed {
                // Written under the lock so that it follows what the thread wrote last.
                TerminalOutput.write(text)
                return true
            }
            state.requests.append(.print(text))
            state.pendingPrintBytes += text.utf8.count
            return false
        }
        if !direct { wake() }
    }

    func setStatus(_ lines: [String]) {
        let open = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.status = lines
            return true
        }
        if open { wake() }
    }

    func refreshPrompt() {
        let open = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.promptStale = true
            return true
        }
        if open { wake() }
    }

    func enqueueRead(_ request: ReadRequest) {
        let accepted = state.withLock { state -> Bool in
            if state.closed || state.closeRequested || state.cancelledReads.remove(request.id) != nil {
                return false
            }
            state.requests.append(.read(request))
            return true
        }
        if accepted {
            wake()
        } else {
            request.continuation.resume(returning: .endOfInput)
        }
    }

    func cancelRead(_ id: UInt64) {
        let queued = state.withLock { state -> ReadRequest? in
            for (index, request) in state.requests.enumerated() {
                if case .read(let read) = request, read.id == id {
                    state.requests.remove(at: index)
                    return read
                }
            }
            state.cancelledReads.insert(id)
            return nil
        }
        if let queued {
            queued.continuation.resume(returning: .endOfInput)
        } else {
            wake()
        }
    }

    func requestClose() {
        state.withLock { $0.closeRequested = true }
        wake()
    }

    // MARK: Terminal thread side

    /// Bytes printed but not yet taken by the terminal thread: a measure of how far the terminal
    /// lags behind, so producers (events) can hold back instead of queueing without bound.
    var pendingPrintBytes: Int {
        state.withLock { $0.pendingPrintBytes }
    }

    func take() -> Batch {
        state.withLock { state in
            defer {
                state.requests.removeAll()
                state.pendingPrintBytes = 0
                state.status = nil
                state.promptStale = false
            }
            return Batch(
                requests: state.requests, cancelledReads: state.cancelledReads, closeRequested: state.closeRequested,
                status: state.status, promptStale: state.promptStale)
        }
    }

    /// A read is over: its id need not be remembered as cancelled.
    func forgetRead(_ id: UInt64) {
        state.withLock { _ = $0.cancelledReads.remove(id) }
    }

    func reportHistoryProblem(_ problem: String) {
        state.withLock { state in
            if state.historyProblem == nil { state.historyProblem = problem }
        }
    }

    /// The thread's last act: marks the mailbox closed, so later prints are written directly, and
    /// writes what is still queued; returns the reads still queued, to be ended.
    ///
    /// One step, under the lock that direct prints take too: what was queued is written before
    /// anything printed later, and an event flood printed from another thread cannot keep the
    /// thread here (taking and writing in rounds until the queue stayed empty never ended while
    /// events kept coming, so Ctrl-D did not exit).
    func closeWritingRemaining() -> [ReadRequest] {
        state.withLock { state in
            state.closed = true
            state.cancelledReads.removeAll()
            var reads: [ReadRequest] = []
            for request in state.requests {
                switch request {
                case .print(let text): TerminalOutput.write(text)
                case .read(let read): reads.append(read)
                }
            }
            state.requests.removeAll()
            state.pendingPrintBytes = 0
            return reads
        }
    }

    /// Empties the wake-up pipe.
    func drainWakeUps() {
        var buffer = [UInt8](repeating: 0, count: 256)
        while buffer.withUnsafeMutableBytes({ read(wakeReadFD, $0.baseAddress, $0.count) }) > 0 {}
    }

    private func wake() {
        var byte: UInt8 = 1
        // A full pipe already holds a wake-up, so a failed write loses nothing.
        _ = write(wakeWriteFD, &byte, 1)
    }
}

/// Writing to the terminal (standard output, through the same stdio stream libedit uses).
enum TerminalOutput {
    static func write(_ text: String) {
        guard !text.isEmpty else { return }
        let stream = qmpshell_stdout()
        var text = text
        text.withUTF8 { bytes in
            _ = fwrite(bytes.baseAddress, 1, bytes.count, stream)
        }
        _ = fflush(stream)
    }
}
