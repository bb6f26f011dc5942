/// Listening for events.
extension QMPClient {
    /// Starts delivering events to `listener` (each listener gets its own copy of every event it
    /// accepts).
    public func register(_ listener: EventListener) {
        let finished = state.withLock { state -> Bool in
            state.listeners.append(listener)
            return state.closed
        }
        if finished { listener.finish() }
    }

    /// Stops delivering events to `listener`.
    public func unregister(_ listener: EventListener) {
        state.withLock { state in state.listeners.removeAll { $0 === listener } }
        // A full listener that paused reading no longer holds the connection back.
        if listener.overflow == .pauseReading { resumeReadingWhenRoom() }
    }

    /// Makes and registers a listener for the given event names (all if empty) and/or predicate.
    public func listen(
        to names: Set<String> = [], capacity: Int = 10_000, byteLimit: Int = EventListener.defaultByteLimit,
        overflow: EventListener.OverflowPolicy = .dropOldest, where predicate: (@Sendable (QMPEvent) -> Bool)? = nil
    ) -> EventListener {
        let listener = EventListener(
            names: names, capacity: capacity, byteLimit: byteLimit, overflow: overflow, where: predicate)
        register(listener)
        return listener
    }

    /// Runs `body` with a listener registered only for its duration.
    public func withListener<Result>(
        to names: Set<String> = [], where predicate: (@Sendable (QMPEvent) -> Bool)? = nil,
        _ body: (EventListener) async throws -> Result
    ) async rethrows -> Result {
        let listener = listen(to: names, where: predicate)
        defer { unregister(listener) }
        return try await body(listener)
    }

    /// The point in the event stream now. Take it before sending a command, then wait for the event
    /// the command causes with ``waitForEvent(since:timeout:where:)``: events that arrive before the
    /// command's reply are not missed.
    public func eventMark() -> EventMark {
        EventMark(sequence: state.withLock { $0.eventSequence })
    }

    /// The most recent events, oldest first (at most ``Configuration/historyLimit`` events and
    /// ``Configuration/historyByteLimit`` bytes).
    public var eventHistory: [QMPEvent] { state.withLock { Array($0.history) } }

    /// Waits for the first event after `mark` that satisfies `predicate`, looking back in the history
    /// first. Throws ``QMPError/timedOut(_:)`` after `timeout`, ``QMPError/disconnected(_:)`` if the
    /// connection ends first.
    public func waitForEvent(
        since mark: EventMark, timeout: Duration, where predicate: @escaping @Sendable (QMPEvent) -> Bool
    ) async throws(QMPError) -> QMPEvent {
        let listener = EventListener(capacity: 1) { $0.sequence > mark.sequence && predicate($0) }
        // Registering and searching the history under one lock: no event falls between the two.
        let (earlier, finished) = state.withLock { state -> (QMPEvent?, Bool) in
            // Sequence numbers are consecutive and the history ends with the newest event, so the
            // events after the mark are its last `eventSequence - mark` ones.
            let newer = mark.sequence < state.eventSequence ? state.eventSequence - mark.sequence : 0
            let after = state.history.suffix(Int(min(newer, UInt64(state.history.count))))
            if let match = after.first(where: listener.accepts) { return (match, state.closed) }
            state.listeners.append(listener)
            return (nil, state.closed)
        }
        if let earlier { return earlier }
        defer { unregister(listener) }
        if finished { listener.finish() }
        return try await listener.next(timeout: timeout)
    }
}
