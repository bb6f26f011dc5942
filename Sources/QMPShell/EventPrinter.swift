import QMP
import Synchronization

/// Shows events as they arrive and keeps them in wire order with replies.
///
/// Everything shown goes through one lock, and both paths take the queued events inside it: a
/// reply is printed after the events that preceded it on the wire (up to its ``QMPClient/Reply``
/// mark) and before those that followed, whichever task gets there first. It remembers how far it
/// has shown the current listener's events, so an event `.wait` matched is shown once.
public final class EventPrinter: Sendable {
    private let link: ServerLink
    private let output: any ShellOutput
    private let formatter: OutputFormatter
    private let lock = Mutex(Progress())

    /// How far the events of one listener have been shown.
    private struct Progress {
        var listener: EventListener?
        /// The sequence number of the last event shown.
        var lastShown: UInt64 = 0
        /// The sequence numbers between which the listener last dropped events (not shown).
        var dropped: ClosedRange<UInt64>?
    }

    /// Shows the events of `link`'s current listener.
    public init(link: ServerLink, output: any ShellOutput, formatter: OutputFormatter) {
        self.link = link
        self.output = output
        self.formatter = formatter
    }

    /// Prints events as they arrive until the current connection ends. Run it in its own task
    /// (again after a reconnection).
    public func run() async {
        guard let listener = link.listener else { return }
        while true {
            if output.isBacklogged {
                // The terminal is behind: let the listener's bounded queue absorb (and count) the flood.
                try? await Task.sleep(for: .milliseconds(20))
                if Task.isCancelled { break }
                continue
            }
            if await listener.waitForEvents() {
                lock.withLock { emit(listener.drain(), from: listener, progress: &$0) }
            } else if listener.isFinished || Task.isCancelled {
                break
            }
        }
        lock.withLock { emit(listener.drain(), from: listener, progress: &$0) }
    }

    /// Prints a reply in its place among the events.
    public func printReply(_ text: String, after mark: EventMark) {
        lock.withLock { progress in
            let listener = link.listener
            let events = listener?.drain() ?? []
            emit(events.filter { $0.sequence <= mark.sequence }, from: listener, progress: &progress)
            output.result(text)
            emit(events.filter { $0.sequence > mark.sequence }, from: listener, progress: &progress)
        }
    }

    /// Shows `event`, which `.wait` matched on `client`, exactly once: in its place among the
    /// events if the shown listener takes it, else (filtered out by `--event`, dropped in a flood,
    /// or of an earlier connection) as a result line after the events received so far.
    public func printMatched(_ event: QMPEvent, from client: QMPClient) {
        lock.withLock { progress in
            drainCurrent(&progress)
            guard link.client === client, let listener = progress.listener, listener === link.listener,
                listener.accepts(event), progress.dropped?.contains(event.sequence) != true
            else {
                output.result(formatter.event(event))
                return
            }
            if event.sequence > progress.lastShown {
                // `.wait` found it in the history before the end of its read handed it to the
                // listener: show it and the events before it now, in wire order; the listener's
                // copies are skipped when they come.
                let due = client.eventHistory.filter {
                    $0.sequence > progress.lastShown && $0.sequence <= event.sequence && listener.accepts($0)
                }
                emit(due, from: listener, progress: &progress)
            }
        }
    }

    /// Prints a result after every event received so far.
    public func printResult(_ text: String) {
        lock.withLock { progress in
            drainCurrent(&progress)
            output.result(text)
        }
    }

    /// Prints a diagnostic after every event received so far.
    public func printDiagnostic(_ text: String) {
        lock.withLock { progress in
            drainCurrent(&progress)
            output.diagnostic(text)
        }
    }

    /// Prints every event received so far.
    public func flush() {
        lock.withLock { drainCurrent(&$0) }
    }

    /// Emits what the current listener holds; call with the lock held.
    private func drainCurrent(_ progress: inout Progress) {
        let listener = link.listener
        emit(listener?.drain() ?? [], from: listener, progress: &progress)
    }

    /// Emits `events` of `listener` and notes how far they go; call with the lock held.
    private func emit(_ events: [QMPEvent], from listener: EventListener?, progress: inout Progress) {
        guard let listener else { return }
        if progress.listener !== listener { progress = Progress(listener: listener) }
        // Those `printMatched` showed ahead of the listener.
        let events = events.drop { $0.sequence <= progress.lastShown }
        let dropped = listener.takeDroppedCount()
        if dropped > 0 {
            output.diagnostic(
                formatter.notice(
                    "qmp-shell: \(dropped) events were dropped: they arrived faster than they could be shown"))
            // The queue drops its oldest events, so those dropped lie between the last shown and
            // the first still queued.
            if let first = events.first?.sequence, first > progress.lastShown + 1 {
                progress.dropped = (progress.lastShown + 1)...(first - 1)
            }
        }
        for event in events { output.result(formatter.event(event)) }
        if let last = events.last { progress.lastShown = last.sequence }
    }
}
