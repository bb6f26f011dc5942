import QMP
import Synchronization

/// Shows events as they arrive and keeps them in wire order with replies.
///
/// Everything shown goes through one lock, and both paths take the queued events inside it: a
/// reply is printed after the events that preceded it on the wire (up to its ``QMPClient/Reply``
/// mark) and before those that followed, whichever task gets there first.
public final class EventPrinter: Sendable {
    private let listener: EventListener?
    private let output: any ShellOutput
    private let formatter: OutputFormatter
    private let lock = Mutex(())

    /// `listener` is `nil` when there is no server (dry run).
    public init(listener: EventListener?, output: any ShellOutput, formatter: OutputFormatter) {
        self.listener = listener
        self.output = output
        self.formatter = formatter
    }

    /// Prints events as they arrive until the connection ends. Run it in its own task.
    public func run() async {
        guard let listener else { return }
        while true {
            if await listener.waitForEvents() {
                lock.withLock { _ in emit(listener.drain()) }
            } else if listener.isFinished || Task.isCancelled {
                break
            }
        }
        flush()
    }

    /// Prints a reply in its place among the events.
    public func printReply(_ text: String, after mark: EventMark) {
        lock.withLock { _ in
            let events = listener?.drain() ?? []
            emit(events.filter { $0.sequence <= mark.sequence })
            output.result(text)
            emit(events.filter { $0.sequence > mark.sequence })
        }
    }

    /// Prints a result after every event received so far.
    public func printResult(_ text: String) {
        lock.withLock { _ in
            emit(listener?.drain() ?? [])
            output.result(text)
        }
    }

    /// Prints a diagnostic after every event received so far.
    public func printDiagnostic(_ text: String) {
        lock.withLock { _ in
            emit(listener?.drain() ?? [])
            output.diagnostic(text)
        }
    }

    /// Prints every event received so far.
    public func flush() {
        lock.withLock { _ in emit(listener?.drain() ?? []) }
    }

    private func emit(_ events: [QMPEvent]) {
        if let dropped = listener?.takeDroppedCount(), dropped > 0 {
            output.diagnostic(formatter.notice("qmp-shell: \(dropped) events were dropped: they arrived faster than they could be shown"))
        }
        for event in events { output.result(formatter.json(event.message)) }
    }
}
