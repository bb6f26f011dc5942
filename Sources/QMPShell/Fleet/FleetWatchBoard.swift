import QMP
import Synchronization

/// What the targets of a fleet `--watch` share: how many events may still be printed
/// (`--count`), whether watching has ended, and the listeners and clients to wake or end then.
final class FleetWatchBoard: Sendable {
    enum Ending: Sendable {
        case countReached
        case timedOut
        case interrupted
    }

    private struct State {
        var remaining: Int?
        var ending: Ending?
        var listeners: [ObjectIdentifier: EventListener] = [:]
        var clients: [ObjectIdentifier: QMPClient] = [:]
        var endHandlers: [@Sendable () -> Void] = []
    }

    private let state: Mutex<State>

    init(count: Int?) { state = Mutex(State(remaining: count)) }

    var ending: Ending? { state.withLock { $0.ending } }

    /// How many of `wanted` events may be printed now; the last one allowed ends watching.
    func take(_ wanted: Int) -> Int {
        let (allowed, reached) = state.withLock { state -> (Int, Bool) in
            guard state.ending == nil else { return (0, false) }
            guard let remaining = state.remaining else { return (wanted, false) }
            let allowed = min(wanted, remaining)
            state.remaining = remaining - allowed
            return (allowed, state.remaining == 0)
        }
        if reached { end(.countReached) }
        return allowed
    }

    /// Runs `handler` when watching ends (at once if it has).
    func onEnd(_ handler: @escaping @Sendable () -> Void) {
        let ended = state.withLock { state in
            if state.ending == nil { state.endHandlers.append(handler) }
            return state.ending != nil
        }
        if ended { handler() }
    }

    /// Ends watching (the first reason counts) and wakes every target.
    func end(_ ending: Ending) {
        let (listeners, clients, handlers) = state.withLock { state in
            if state.ending == nil { state.ending = ending }
            defer { state.endHandlers = [] }
            return (Array(state.listeners.values), Array(state.clients.values), state.endHandlers)
        }
        handlers.forEach { $0() }
        listeners.forEach { $0.interruptWaiting() }
        // A client still in its handshake (a server that never greets) ends now, not at its timeout.
        for client in clients { Task { await client.disconnect() } }
    }

    /// Notes a client being connected, to end it if watching ends first.
    func track(_ client: QMPClient) {
        let ended = state.withLock { state in
            state.clients[ObjectIdentifier(client)] = client
            return state.ending != nil
        }
        if ended { Task { await client.disconnect() } }
    }

    func untrack(_ client: QMPClient) {
        _ = state.withLock { $0.clients.removeValue(forKey: ObjectIdentifier(client)) }
    }

    /// Notes a listener being read, to wake it when watching ends.
    func track(_ listener: EventListener) {
        let ended = state.withLock { state in
            state.listeners[ObjectIdentifier(listener)] = listener
            return state.ending != nil
        }
        if ended { listener.interruptWaiting() }
    }

    func untrack(_ listener: EventListener) {
        _ = state.withLock { $0.listeners.removeValue(forKey: ObjectIdentifier(listener)) }
    }
}
