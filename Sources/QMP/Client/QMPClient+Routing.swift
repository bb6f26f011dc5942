import Logging
import NIOCore

/// Routing of inbound messages, called by the ``MessageFramer`` on the connection's event loop,
/// one message at a time in wire order.
extension QMPClient: MessageSink {
    func receive(message bytes: UnsafeRawBufferPointer) -> Bool {
        if let observer = configuration.messageObserver {
            observer(.received, String(decoding: bytes, as: UTF8.self))
        }
        let phase = state.withLock { $0.phase }
        if case .agentSync(let id) = phase {
            receiveDuringAgentSync(bytes, id: id)
            return true
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes.assumingMemoryBound(to: UInt8.self))
        } catch {
            fail(.protocolViolation("the server sent invalid JSON (\(error)): \(Self.preview(bytes))"))
            return false
        }
        guard case .object(let message) = value else {
            fail(.protocolViolation("the server sent \(Self.preview(bytes)) where a JSON object was expected"))
            return false
        }
        return receive(message, phase: phase, size: bytes.count)
    }

    func receive(object message: JSONObject) -> Bool {
        // The text is made only for what needs it: the observer, and an event's size.
        var text: String?
        func wireText() -> String {
            if let text { return text }
            let made = JSONValue.object(message).serialized()
            text = made
            return made
        }
        if let observer = configuration.messageObserver { observer(.received, wireText()) }
        let phase = state.withLock { $0.phase }
        if case .agentSync(let id) = phase {
            if message["return"]?.intValue == id { completeHandshake(.success(message)) }
            return true
        }
        return receive(message, phase: phase, size: message["event"] != nil ? wireText().utf8.count : 0)
    }

    /// Handles a parsed message; `size` is its wire size (what an event counts against the bounds).
    private func receive(_ message: JSONObject, phase: Phase, size: Int) -> Bool {
        if phase == .greeting {
            // QEMU can write an event before the greeting to a client that connects while it
            // starts (RESUME, seen in tests): the event is kept like any other.
            if message["event"] != nil && message["QMP"] == nil {
                routeEvent(message, size: size)
            } else {
                completeHandshake(.success(message))
            }
            return true
        }
        return route(message, size: size)
    }

    /// The guest agent's protocol: after `guest-sync-delimited`, everything up to the agent's
    /// 0xFF marker is to be thrown away (the tail of an earlier client's reply, the answer to our
    /// own 0xFF), whatever it is, JSON or not. The framer drops 0xFF at the start of a line, so
    /// the marker is not always seen: what follows the line's last 0xFF (or the whole line) is our
    /// answer if it is `{"return": id}`, and skipped otherwise.
    private func receiveDuringAgentSync(_ bytes: UnsafeRawBufferPointer, id: Int) {
        let afterMarker = bytes.lastIndex(of: 0xFF).map { bytes.index(after: $0) } ?? bytes.startIndex
        let rest = UnsafeRawBufferPointer(rebasing: bytes[afterMarker...])
        guard let message = try? JSONParser.parse(rest.assumingMemoryBound(to: UInt8.self)).objectValue,
            message["return"]?.intValue == id
        else { return }
        completeHandshake(.success(message))
    }

    /// Routes a message of a ready connection; `false` if it ended the session.
    private func route(_ message: JSONObject, size: Int) -> Bool {
        if message["event"] != nil {
            routeEvent(message, size: size)
            return true
        } else if message["return"] != nil || message["error"] != nil {
            return routeReply(message)
        } else {
            warn(
                "ignored a message that is neither a reply nor an event",
                metadata: ["message": "\(JSONValue.object(message).serialized().prefix(200))"])
            return true
        }
    }

    /// Logs a warning about what the server sent: the first of its kind with `metadata`, repeats
    /// as a count (``RepeatedWarnings``).
    private func warn(_ message: String, metadata: @autoclosure () -> Logger.Metadata = [:]) {
        switch state.withLock({ $0.warnings.record(message) }) {
        case .first: configuration.logger.warning("\(message)", metadata: metadata())
        case .repeats(let count): configuration.logger.warning("\(RepeatedWarnings.summary(message, count: count))")
        case .none: scheduleRepeatedWarningsReport()
        }
    }

    /// Reports the repeats counted so far in one interval, unless a report is already due: the
    /// count of a flood that stopped comes without waiting for another repeat or the end.
    private func scheduleRepeatedWarningsReport() {
        let transport = state.withLock { state -> (any QMPTransport)? in
            guard !state.warnings.reportScheduled, let transport = state.transport else { return nil }
            state.warnings.reportScheduled = true
            return transport
        }
        guard let transport else { return }
        let interval = RepeatedWarnings.interval.components
        transport.eventLoop.scheduleTask(
            in: .nanoseconds(interval.seconds * 1_000_000_000 + interval.attoseconds / 1_000_000_000)
        ) { [self] in
            state.withLock { $0.warnings.reportScheduled = false }
            reportRepeatedWarnings()
        }
    }

    /// Logs the repeats not reported yet (the connection ended).
    private func reportRepeatedWarnings() {
        for (message, count) in state.withLock({ $0.warnings.takeUnreported() }) {
            configuration.logger.warning("\(RepeatedWarnings.summary(message, count: count))")
        }
    }

    /// The most events held back before delivering them in the middle of a read.
    static let deliveryBatchLimit = 1024

    /// Numbers and records the event, and holds it for delivery with the rest of the read: a flood
    /// then costs one lock and one wake-up per listener and read, not per event.
    private func routeEvent(_ message: JSONObject, size: Int) {
        let held = state.withLock { state -> Int? in
            guard let event = QMPEvent(message: message, sequence: state.eventSequence + 1, size: size) else {
                return nil
            }
            state.eventSequence += 1
            // Bounded by count and by bytes; the newest event is kept whatever its size.
            while let oldest = state.history.first,
                state.history.count >= configuration.historyLimit
                    || state.historyBytes + size > configuration.historyByteLimit
            {
                state.history.removeFirst()
                state.historyBytes -= oldest.size
            }
            state.history.append(event)
            state.historyBytes += size
            state.routed.append(RoutedEvent(event: event, listeners: state.listeners))
            return state.routed.count
        }
        guard let held else {
            warn("ignored an event without a name")
            return
        }
        if held >= Self.deliveryBatchLimit { deliverRoutedEvents() }
    }

    /// Queues the held events on the listeners that were registered when each arrived, in wire
    /// order. Runs on the event loop at the end of every read, before a reply resumes its caller
    /// (so events that precede a reply are queued first) and before the listeners are finished.
    func deliverRoutedEvents() {
        let routed = state.withLock { state -> [RoutedEvent] in
            guard !state.routed.isEmpty else { return [] }
            defer { state.routed.removeAll(keepingCapacity: true) }
            return state.routed
        }
        var start = 0
        var pausing: [EventListener] = []
        while start < routed.count {
            // A run of events that arrived under the same listeners (usually all of them).
            let listeners = routed[start].listeners
            var end = start + 1
            while end < routed.count, Self.same(routed[end].listeners, listeners) { end += 1 }
            for listener in listeners {
                if listener.overflow == .pauseReading && !pausing.contains(where: { $0 === listener }) {
                    pausing.append(listener)
                }
                if listener.acceptsEverything {
                    listener.deliver(contentsOf: routed[start..<end].lazy.map(\.event))
                    continue
                }
                var accepted: [QMPEvent] = []
                accepted.reserveCapacity(end - start)
                for index in start..<end where listener.accepts(routed[index].event) {
                    accepted.append(routed[index].event)
                }
                if !accepted.isEmpty { listener.deliver(contentsOf: accepted) }
            }
            start = end
        }
        if pausing.contains(where: { $0.isFull(onSpace: resumeReadingWhenRoom) }) { setReading(false) }
    }

    /// Called by a ``EventListener/OverflowPolicy/pauseReading`` listener whose reader made room:
    /// reads again, on the event loop, unless another such listener is still full.
    @Sendable func resumeReadingWhenRoom() {
        guard let transport = state.withLock({ $0.transport }) else { return }
        transport.eventLoop.execute { [self] in
            let listeners = state.withLock { $0.listeners }
            let stillFull = listeners.contains {
                $0.overflow == .pauseReading && $0.isFull(onSpace: resumeReadingWhenRoom)
            }
            if !stillFull { setReading(true) }
        }
    }

    /// Turns reading from the server off (a listener that must not drop is full) or on again; on
    /// the event loop. The read in progress still completes.
    private func setReading(_ on: Bool) {
        state.withLock { $0.transport }?.setReading(on)
    }

    private static func same(_ first: [EventListener], _ second: [EventListener]) -> Bool {
        first.count == second.count && zip(first, second).allSatisfy { $0 === $1 }
    }

    func endOfRead() {
        deliverRoutedEvents()
    }

    /// Resumes the caller of a reply; `false` if the reply ended the session.
    private func routeReply(_ message: JSONObject) -> Bool {
        guard let id = message["id"] else {
            if let error = message["error"] {
                let description = error["desc"]?.stringValue ?? JSONValue.object(message).serialized()
                fail(.protocolViolation("the server reported an error without an id: \(description)"))
                return false
            }
            warn("dropped a reply without an id")
            return true
        }
        enum Found {
            case pending(Pending, EventMark)
            case abandoned(String)
            case unknown
        }
        let found = state.withLock { state -> Found in
            guard let number = id.intValue else { return .unknown }
            if let pending = state.pending.removeValue(forKey: number) {
                return .pending(pending, EventMark(sequence: state.eventSequence))
            }
            if let name = state.abandoned.removeValue(forKey: number) { return .abandoned(name) }
            return .unknown
        }
        let pending: Pending
        let mark: EventMark
        switch found {
        case .pending(let foundPending, let foundMark):
            (pending, mark) = (foundPending, foundMark)
        case .abandoned(let name):
            configuration.logger.warning("the reply to \(name) came after it was abandoned")
            return true
        case .unknown:
            warn("dropped a reply with an unknown id", metadata: ["id": "\(id.serialized())"])
            return true
        }
        var reply = message
        reply["id"] = pending.callerID
        deliverRoutedEvents()
        pending.continuation.resume(returning: .success(Reply(message: reply, eventMark: mark)))
        return true
    }

    private func completeHandshake(_ result: Result<JSONObject, QMPError>) {
        if let (waiter, result) = state.withLock({ $0.completeHandshake(result) }) {
            waiter.resume(returning: result)
        }
    }

    func framingFailed(_ reason: String) {
        fail(.protocolViolation(reason))
    }

    func connectionClosed(error: (any Error)?, partial: Bool) {
        deliverRoutedEvents()
        reportRepeatedWarnings()
        let cleanup = state.withLock { state -> (QMPError?, [Pending], [CheckedContinuation<QMPError?, Never>])? in
            guard !state.closed else { return nil }
            state.closed = true
            if state.disconnectCause == nil && state.runstate != .disconnecting {
                let reason: String
                if case .disconnected(let why)? = error as? QMPError {
                    // A transport's own account of the end (libvirt: the domain stopped).
                    reason = why
                } else if let error, !Self.isPeerClosure(error) {
                    reason = "connection error: \(Self.describe(error))"
                } else if partial {
                    reason = "the server closed the connection in the middle of a message"
                } else {
                    reason = "the server closed the connection"
                }
                state.disconnectCause = .disconnected(reason)
            }
            state.runstate = .idle
            state.transport = nil
            let pending = Array(state.pending.values)
            state.pending.removeAll()
            let waiters = state.disconnectWaiters
            state.disconnectWaiters.removeAll()
            return (state.disconnectCause, pending, waiters)
        }
        guard let (cause, pending, waiters) = cleanup else { return }
        let failure: QMPError = .disconnected(
            cause.map { cause in
                if case .disconnected(let reason) = cause { return reason }
                return cause.description
            } ?? "the client disconnected")
        completeHandshake(.failure(cause ?? failure))
        for command in pending { command.continuation.resume(returning: .failure(failure)) }
        finishListeners()
        notifyObservers(.idle)
        if let cause { configuration.logger.info("connection ended", metadata: ["cause": "\(cause)"]) }
        for waiter in waiters { waiter.resume(returning: cause) }
    }

    /// A reset or broken pipe is how a killed server looks; say so the same way as an orderly close.
    static func isPeerClosure(_ error: any Error) -> Bool {
        guard let error = error as? IOError else { return false }
        return error.errnoCode == ECONNRESET || error.errnoCode == EPIPE
    }

    /// The start of a message, for error text.
    static func preview(_ bytes: UnsafeRawBufferPointer) -> String {
        let text = String(decoding: bytes.prefix(120), as: UTF8.self)
        return bytes.count > 120 ? "'\(text)…' (\(bytes.count) bytes)" : "'\(text)'"
    }
}

import Glibc
