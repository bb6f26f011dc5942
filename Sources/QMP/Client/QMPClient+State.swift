import NIOCore

extension QMPClient {
    /// A command waiting for its reply.
    struct Pending {
        let continuation: CheckedContinuation<Result<Reply, QMPError>, Never>
        /// The id the caller put in the message, restored in the reply.
        let callerID: JSONValue?
        /// The command's name, for messages about its reply.
        let name: String
    }

    /// What the next inbound message is expected to be.
    enum Phase: Equatable {
        /// The QMP greeting.
        case greeting
        /// The guest agent's answer to our `guest-sync-delimited` with this id.
        case agentSync(id: Int)
        /// Replies and events.
        case ready
    }

    /// An event routed but not yet queued on its listeners (see ``QMPClient/deliverRoutedEvents()``).
    struct RoutedEvent {
        let event: QMPEvent
        /// The listeners registered when the event arrived.
        let listeners: [EventListener]
    }

    /// Everything mutable about a client, guarded by one lock.
    struct State {
        var runstate: Runstate = .idle
        /// Set once connecting starts: a client serves one connection.
        var used = false
        /// Set once the connection has ended (or never came to be).
        var closed = false
        /// What carries the messages, once connecting has opened it.
        var transport: (any QMPTransport)?
        var phase: Phase = .greeting
        var greeting: Greeting?
        var handshakeResult: Result<JSONObject, QMPError>?
        var handshakeWaiter: CheckedContinuation<Result<JSONObject, QMPError>, Never>?
        var nextID = 1
        var pending: [Int: Pending] = [:]
        /// Commands whose caller stopped waiting (timeout, cancellation), by id: their replies are
        /// dropped as late. At most ``abandonedLimit``; beyond, the oldest is forgotten (its reply
        /// would then be dropped as one with an unknown id: the same outcome, in other words).
        var abandoned: [Int: String] = [:]
        var listeners: [EventListener]
        /// ``QMPClient/events``, once something has used it.
        var defaultListener: EventListener?
        /// Events of the current read awaiting delivery, in wire order.
        var routed: [RoutedEvent] = []
        var history = CircularBuffer<QMPEvent>()
        /// The sum of the sizes of the events in ``history``.
        var historyBytes = 0
        /// Warnings about what the server sent, counted so a flood of them is a few lines.
        var warnings = RepeatedWarnings()
        var eventSequence: UInt64 = 0
        var disconnectCause: QMPError?
        var disconnectWaiters: [CheckedContinuation<QMPError?, Never>] = []
        var runstateObservers: [Int: AsyncStream<Runstate>.Continuation] = [:]
        var nextObserverID = 0

        init(listeners: [EventListener]) {
            self.listeners = listeners
        }

        static let abandonedLimit = 1024

        mutating func rememberAbandoned(_ id: Int, name: String) {
            if abandoned.count >= Self.abandonedLimit, let oldest = abandoned.keys.min() {
                abandoned[oldest] = nil
            }
            abandoned[id] = name
        }

        /// The error for a command that cannot be sent now.
        var notConnectedError: QMPError {
            if let disconnectCause { return .disconnected(disconnectCause.description) }
            return .invalidState("not connected")
        }

        /// Hands a handshake message (or failure) to the waiting `connect`, or keeps it for it.
        mutating func completeHandshake(_ result: Result<JSONObject, QMPError>)
            -> (CheckedContinuation<Result<JSONObject, QMPError>, Never>, Result<JSONObject, QMPError>)?
        {
            if let waiter = handshakeWaiter {
                handshakeWaiter = nil
                return (waiter, result)
            }
            if handshakeResult == nil { handshakeResult = result }
            return nil
        }
    }
}
