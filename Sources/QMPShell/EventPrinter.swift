import QMP
import Synchronization

/// Shows events as they arrive and keeps them in wire order with replies.
///
/// Everything shown goes through one lock, and both paths take the queued events inside it: a
/// reply is printed after the events that preceded it on the wire (up to its ``QMPClient/Reply``
/// mark) and before those that followed, whichever task gets there first.
public final class EventPrinter: Sendable {
    private let link: ServerLink
    private let output: any ShellOutput
    private let formatter: OutputFormatter
    private let lock = Mutex(())

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
                lock.withLock { _ in emit(listener.drain(), from: listener) }
            } else if listener.isFinished || Task.isCancelled {
                break
            }
        }
        lock.withLock { _ in emit(listener.drain(), from: listener) }
    }

    /// Prints a reply in its place among the events.
    public func printReply(_ text: String, after mark: EventMark) {
        lock.withLock { _ in
            let listener = link.listener
            let events = listener?.drain() ?? []
            emit(events.filter { $0.sequence <= mark.sequence }, from: listener)
            output.result(text)
            emit(events.filter { $0.sequence > mark.sequence }, from: listener)
        }
    }

    /// Prints a result after every event received so far.
    public func printResult(_ text: String) {
        lock.withLock { _ in
            drainCurrent()
            output.result(text)
        }
    }

    /// Prints a diagnostic after every event received so far.
    public func printDiagnostic(_ text: String) {
        lock.withLock { _ in
            drainCurrent()
            output.diagnostic(text)
        }
    }

    /// Prints every event received so far.
    public func flush() {
        lock.withLock { _ in drainCurrent() }
    }

    /// Emits what the current listener holds; call with the lock held.
    private func drainCurrent() {
        let listener = link.listener
        emit(listener?.drain() ?? [], from: listener)
    }

    private func emit(_ events: [QMPEvent], from listener: EventListener?) {
        if let dropped = listener?.takeDroppedCount(), dropped > 0 {
            output.diagnostic(formatter.notice("qmp-shell: \(dropped) events were dropped: they arrived faster than they could be shown"))
        }
        for event in events { output.result(formatter.json(event.message)) }
    }
}
