import NIOCore
import Synchronization

/// A bounded queue of the events a client receives, filtered by name and/or a predicate.
///
/// Every listener gets its own copy of each event it accepts. The queue is bounded by a count and
/// by the events' bytes (``EventListener/byteLimit``): when either is reached the oldest event is
/// dropped and counted (``droppedCount``), so a listener nobody reads never grows without bound,
/// however large the server makes its events. Iteration (`for await event in listener`) ends once the connection is gone and the queue
/// is empty.
public final class EventListener: Sendable, AsyncSequence {
    public typealias Element = QMPEvent

    /// What a full queue does with the next event.
    public enum OverflowPolicy: Sendable, Hashable {
        /// Drop the oldest queued event and count it (the default: the latest state wins).
        case dropOldest
        /// Keep every event and have the client stop reading from the server until the queue is
        /// half empty again: nothing is lost, memory stays bounded (the capacity or byte limit,
        /// plus at most what the read in progress brings), and the server's own buffers take the wait. For a
        /// reader that must see every event, such as `--watch --count`.
        case pauseReading
    }

    /// The event names accepted; empty means every name.
    public let names: Set<String>
    /// How many events the queue holds before it overflows (see ``overflow``).
    public let capacity: Int
    /// How many bytes of events (``QMPEvent/size``) the queue holds before it overflows: 1,200
    /// events of 1 MiB fit the count but not the memory of a shell.
    public let byteLimit: Int
    /// The default ``byteLimit``: 32 MiB.
    public static let defaultByteLimit = 32 << 20
    /// What happens when the queue is full.
    public let overflow: OverflowPolicy
    private let predicate: (@Sendable (QMPEvent) -> Bool)?
    private let state: Mutex<State>

    private struct State {
        var queue = CircularBuffer<QMPEvent>()
        /// The sum of the queued events' sizes.
        var bytes = 0
        var dropped = 0
        var finished = false
        /// With ``OverflowPolicy/pauseReading``: the queue filled up, and `onSpace` is to be told
        /// once the reader has taken it below half.
        var waitingForSpace = false
        var onSpace: (@Sendable () -> Void)?
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiterID: UInt64 = 0

        mutating func append(_ event: QMPEvent) {
            queue.append(event)
            bytes += event.size
        }

        mutating func popFirst() -> QMPEvent? {
            guard let event = queue.popFirst() else { return nil }
            bytes -= event.size
            return event
        }

        mutating func removeAll() {
            queue.removeAll(keepingCapacity: true)
            bytes = 0
        }

        mutating func takeWaiters() -> [CheckedContinuation<Void, Never>] {
            guard !waiters.isEmpty else { return [] }
            defer { waiters.removeAll() }
            return Array(waiters.values)
        }
    }

    /// Makes a listener; register it with ``QMPClient/register(_:)`` to receive events.
    public init(
        names: Set<String> = [], capacity: Int = 10_000, byteLimit: Int = EventListener.defaultByteLimit,
        overflow: OverflowPolicy = .dropOldest, where predicate: (@Sendable (QMPEvent) -> Bool)? = nil
    ) {
        self.names = names
        self.capacity = Swift.max(1, capacity)
        self.byteLimit = Swift.max(1, byteLimit)
        self.overflow = overflow
        self.predicate = predicate
        self.state = Mutex(State())
    }

    /// Whether this listener takes every event (no names, no predicate).
    var acceptsEverything: Bool { names.isEmpty && predicate == nil }

    /// Whether this listener wants `event`.
    public func accepts(_ event: QMPEvent) -> Bool {
        (names.isEmpty || names.contains(event.name)) && (predicate?(event) ?? true)
    }

    /// How many events were dropped because the queue was full.
    public var droppedCount: Int { state.withLock { $0.dropped } }

    /// Returns the number of dropped events and resets it, for "N events dropped" notices.
    public func takeDroppedCount() -> Int {
        state.withLock { state in
            defer { state.dropped = 0 }
            return state.dropped
        }
    }

    /// Queues events in order (the client calls this with the events of a read the listener
    /// accepts), dropping the oldest beyond the capacity or the byte limit unless the policy is
    /// ``OverflowPolicy/pauseReading``. The newest event is always kept, whatever its size.
    func deliver(contentsOf events: some Collection<QMPEvent>) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.finished else { return [] }
            for event in events {
                if overflow == .dropOldest {
                    while !state.queue.isEmpty
                        && (state.queue.count >= capacity || state.bytes + event.size > byteLimit)
                    {
                        _ = state.popFirst()
                        state.dropped += 1
                    }
                }
                state.append(event)
            }
            return state.takeWaiters()
        }
        for waiter in waiters { waiter.resume() }
    }

    /// For ``OverflowPolicy/pauseReading``: whether the queue is full, in which case `onSpace` is
    /// called (once, from the reader's thread) when the reader has taken it below half. The client
    /// asks this after each delivery and stops reading while it is true.
    func isFull(onSpace: @escaping @Sendable () -> Void) -> Bool {
        guard overflow == .pauseReading else { return false }
        return state.withLock { state in
            guard state.queue.count >= capacity || state.bytes >= byteLimit, !state.finished else { return false }
            state.waitingForSpace = true
            state.onSpace = onSpace
            return true
        }
    }

    /// Called with the lock held after the reader took events: the handler to call, if the queue
    /// was full and is now below half.
    private func spaceHandler(_ state: inout State) -> (@Sendable () -> Void)? {
        guard state.waitingForSpace, state.queue.count <= capacity / 2, state.bytes <= byteLimit / 2 else { return nil }
        state.waitingForSpace = false
        defer { state.onSpace = nil }
        return state.onSpace
    }

    /// Fills a listener that is not registered yet as if it had been registered from the start:
    /// it holds the newest of the `recent` events (within its capacity and byte limit) and counts
    /// the rest of the `eventsSoFar` events as dropped.
    func start(with recent: some BidirectionalCollection<QMPEvent>, eventsSoFar: Int) {
        state.withLock { state in
            var kept = 0
            var bytes = 0
            for event in recent.reversed() {
                guard kept < capacity, kept == 0 || bytes + event.size <= byteLimit else { break }
                kept += 1
                bytes += event.size
            }
            for event in recent.suffix(kept) { state.append(event) }
            state.dropped = Swift.max(0, eventsSoFar - state.queue.count)
        }
    }

    /// Marks the stream as ended: waiting readers wake up, queued events can still be read.
    func finish() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.finished = true
            return state.takeWaiters()
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Wakes readers waiting in ``waitForEvents()`` or ``next()`` without an event (they check
    /// their own conditions, such as a deadline, and wait again if they like).
    public func interruptWaiting() {
        let waiters = state.withLock { $0.takeWaiters() }
        for waiter in waiters { waiter.resume() }
    }

    /// Whether the stream has ended (the connection is gone).
    public var isFinished: Bool { state.withLock { $0.finished } }

    /// Everything queued right now, without waiting.
    public func drain() -> [QMPEvent] {
        let (events, onSpace) = state.withLock { state in
            let events = Array(state.queue)
            state.removeAll()
            return (events, spaceHandler(&state))
        }
        onSpace?()
        return events
    }

    /// Forgets the queued events.
    public func clear() {
        let onSpace = state.withLock { state in
            state.removeAll()
            return spaceHandler(&state)
        }
        onSpace?()
    }

    /// The next event; `nil` once the stream has ended and the queue is empty, or if the task is
    /// cancelled.
    public func next() async -> QMPEvent? {
        await nextBatch(limit: 1)?.first
    }

    /// The next event, or ``QMPError/timedOut(_:)`` after `timeout`, or
    /// ``QMPError/disconnected(_:)`` if the stream ends first.
    public func next(timeout: Duration) async throws(QMPError) -> QMPEvent {
        // Both children may finish at once; an event that did arrive is never thrown away.
        let outcome: QMPEvent?? = await withTaskGroup(of: QMPEvent??.self) { group in
            group.addTask { .some(await self.next()) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return .none
            }
            var results: [QMPEvent??] = []
            if let first = await group.next() { results.append(first) }
            group.cancelAll()
            for await other in group { results.append(other) }
            if let event = results.lazy.compactMap({ $0 ?? nil }).first { return .some(event) }
            return results.contains(where: { $0 == .some(nil) }) && self.isFinished ? .some(nil) : .none
        }
        switch outcome {
        case .some(.some(let event)): return event
        case .some(.none): throw .disconnected("the connection closed while waiting for an event")
        case .none: throw .timedOut("no matching event within \(timeout.secondsDescription)")
        }
    }

    /// Waits until at least one event is queued, the stream ends, or ``interruptWaiting()`` is
    /// called, without taking anything (for a reader that drains under its own lock). Returns
    /// whether events are queued.
    public func waitForEvents() async -> Bool {
        let (available, ended) = state.withLock { (!$0.queue.isEmpty, $0.finished) }
        if available { return true }
        if ended || Task.isCancelled { return false }
        await waitForActivity()
        return state.withLock { !$0.queue.isEmpty }
    }

    /// Up to `limit` queued events, waiting until there is at least one. `nil` at the end.
    func nextBatch(limit: Int) async -> [QMPEvent]? {
        while true {
            if Task.isCancelled { return nil }
            var batch: [QMPEvent] = []
            let (ended, onSpace) = state.withLock { state in
                while batch.count < limit, let event = state.popFirst() { batch.append(event) }
                return (state.finished, spaceHandler(&state))
            }
            onSpace?()
            if !batch.isEmpty { return batch }
            if ended { return nil }
            await waitForActivity()
        }
    }

    /// Suspends until an event is queued, the stream ends, or the task is cancelled.
    private func waitForActivity() async {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if !state.queue.isEmpty || state.finished || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(listener: self) }

    /// Reads events in batches, so a flood costs one lock per batch rather than per event.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let listener: EventListener
        var batch: [QMPEvent] = []
        var position = 0

        public mutating func next() async -> QMPEvent? {
            if position == batch.count {
                guard let more = await listener.nextBatch(limit: 4096) else { return nil }
                batch = more
                position = 0
            }
            defer { position += 1 }
            return batch[position]
        }
    }
}

extension Duration {
    /// "2.5 s", for messages.
    var secondsDescription: String {
        let (seconds, attoseconds) = components
        let value = Double(seconds) + Double(attoseconds) / 1e18
        return value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
