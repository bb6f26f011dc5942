import Glibc
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// An asynchronous QMP client: one connection to a QEMU monitor (or a guest agent), any number of
/// commands in flight, and events fanned out to listeners.
///
/// ```swift
/// let client = QMPClient()
/// try await client.connect(to: .unix(path: "/run/vm.sock"))
/// let status = try await client.execute("query-status")
/// for await event in client.events { print(event.name) }
/// ```
///
/// A client serves one connection: once it is disconnected, make a new one to connect again.
/// Inbound messages are parsed and routed on the connection's event loop, in the order they came
/// off the wire: an event that precedes a reply is queued for listeners before that reply's caller
/// resumes.
public final class QMPClient: Sendable {
    /// What is on the other end of the socket.
    public enum Mode: Sendable, Hashable {
        /// A QEMU monitor: greeting, then `qmp_capabilities`.
        case qmp
        /// qemu-ga: no greeting; a `guest-sync-delimited` handshake instead.
        case guestAgent
    }

    /// How a client connects and what it does with what it receives.
    public struct Configuration: Sendable {
        public var mode: Mode = .qmp
        /// Send `qmp_capabilities` after the greeting (`false` is qmp-shell's `-N`).
        public var negotiate = true
        /// Ask for out-of-band execution when the server offers it.
        public var enableOOB = true
        /// How long the greeting and negotiation (or the agent's sync) may take.
        public var handshakeTimeout: Duration = .seconds(5)
        /// Queue size of the default ``QMPClient/events`` listener.
        public var defaultListenerCapacity = 10_000
        /// How many recent events the client keeps: what ``QMPClient/waitForEvent(since:timeout:where:)``
        /// can look back on, and what the default listener starts with when it is first used. At
        /// least ``defaultListenerCapacity`` makes the default listener hold exactly what it would
        /// have held had it been registered from the start.
        public var historyLimit = 10_000
        /// How many bytes of events (``QMPEvent/size``) the history holds at most: the oldest go
        /// first when either bound is reached, so a server sending huge events cannot fill memory.
        public var historyByteLimit = EventListener.defaultByteLimit
        /// Where the client reports dropped replies and unknown messages.
        public var logger = Logger(label: "qmp")
        /// Sees the text of every message sent and received (for `-v` and `-l`), on the connection's
        /// event loop for received ones. Keep it quick.
        public var messageObserver: (@Sendable (MessageDirection, String) -> Void)?

        public init() {}
    }

    /// Guest-agent commands that never reply, so waiting for one would hang.
    public static let agentCommandsWithoutReply: Set<String> = [
        "guest-shutdown", "guest-suspend-disk", "guest-suspend-ram", "guest-suspend-hybrid",
    ]

    public let configuration: Configuration
    let state: Mutex<State>

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.state = Mutex(State(listeners: []))
    }

    /// The default listener: receives every event, dropping the oldest beyond its capacity
    /// (``Configuration/defaultListenerCapacity``).
    ///
    /// It is made the first time it is used and starts with the recent events from the history, as
    /// if it had been listening all along (its ``EventListener/droppedCount`` counts the earlier
    /// events it no longer holds). A program that never reads it does not pay for filling it: for a
    /// flood of events, that is about a fifth of the event loop's time.
    public var events: EventListener {
        let (listener, finished) = state.withLock { state -> (EventListener, Bool) in
            if let existing = state.defaultListener { return (existing, false) }
            let listener = EventListener(capacity: configuration.defaultListenerCapacity)
            // The history already holds the events of the current read that are not delivered
            // yet; they were routed to the listeners of before, so none is queued twice.
            listener.start(with: state.history, eventsSoFar: Int(state.eventSequence))
            state.listeners.append(listener)
            state.defaultListener = listener
            return (listener, state.closed)
        }
        if finished { listener.finish() }
        return listener
    }

    /// Where the client is in its life.
    public var runstate: Runstate { state.withLock { $0.runstate } }

    /// The server's greeting, once connected to a QEMU monitor.
    public var greeting: Greeting? { state.withLock { $0.greeting } }

    /// Why the connection ended, if it ended other than by ``disconnect()``.
    public var disconnectCause: QMPError? { state.withLock { $0.disconnectCause } }

    /// The current runstate, then every change, until the task stops listening.
    public func runstateChanges() -> AsyncStream<Runstate> {
        let (stream, continuation) = AsyncStream<Runstate>.makeStream(bufferingPolicy: .bufferingNewest(16))
        let id = state.withLock { state -> Int in
            state.nextObserverID += 1
            state.runstateObservers[state.nextObserverID] = continuation
            continuation.yield(state.runstate)
            return state.nextObserverID
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.runstateObservers.removeValue(forKey: id) }
        }
        return stream
    }

    // MARK: - Connecting

    /// Connects to `address`, reads the greeting and negotiates capabilities (or, for a guest
    /// agent, synchronises). Throws ``QMPError/couldNotConnect(_:)`` or ``QMPError/handshakeFailed(_:)``.
    public func connect(to address: QMPAddress) async throws(QMPError) {
        try await connect(describingFailureAs: "could not connect to \(address)") { inbound in
            try await SocketTransport.connect(to: address, inbound: inbound)
        }
    }

    /// Accepts one connection on `listener` (a QEMU started with `-qmp unix:PATH` connecting to us)
    /// and performs the handshake.
    public func accept(from listener: QMPSocketListener, timeout: Duration) async throws(QMPError) {
        try await connect(describingFailureAs: "could not accept a connection on \(listener.path)") { inbound in
            let milliseconds = Int32(
                clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
            let fd = try await NIOThreadPool.singleton.runIfActive {
                try UnixSocket.acceptOne(listening: listener.descriptor, timeoutMilliseconds: milliseconds)
            }
            return try await SocketTransport.adopt(fd, inbound: inbound)
        }
    }

    /// Takes over `descriptor`, a stream socket already connected to a QMP server (say one end
    /// of a socket pair whose other end a QEMU started with `-chardev socket,fd=N` holds), and
    /// performs the handshake. The client owns the descriptor from here on, failed or not.
    public func connect(connectedSocket descriptor: Int32) async throws(QMPError) {
        do {
            try beginConnecting()
        } catch {
            close(descriptor)
            throw error
        }
        try await open(describingFailureAs: "could not use the connected socket") { inbound in
            try await SocketTransport.adopt(descriptor, inbound: inbound)
        }
    }

    /// Connects through a transport of the caller's (see ``QMPTransport``) and performs the
    /// handshake over it: `makeTransport` opens the transport and has it deliver to the given
    /// ``QMPInbound``. An error it throws fails the connection as ``QMPError/couldNotConnect(_:)``
    /// (a ``QMPError`` as itself).
    public func connect(using makeTransport: (QMPInbound) async throws -> any QMPTransport) async throws(QMPError) {
        try await connect(describingFailureAs: "could not connect", makeTransport)
    }

    private func connect(
        describingFailureAs failure: String, _ makeTransport: (QMPInbound) async throws -> any QMPTransport
    ) async throws(QMPError) {
        try beginConnecting()
        try await open(describingFailureAs: failure, makeTransport)
    }

    /// Opens the transport, then performs the handshake over it.
    private func open(
        describingFailureAs failure: String, _ makeTransport: (QMPInbound) async throws -> any QMPTransport
    ) async throws(QMPError) {
        let transport: any QMPTransport
        do {
            transport = try await makeTransport(QMPInbound(sink: self))
        } catch {
            endWithoutConnection()
            if let error = error as? QMPError { throw error }
            throw .couldNotConnect("\(failure): \(Self.describe(error))")
        }
        try await handshake(over: transport)
    }

    private func beginConnecting() throws(QMPError) {
        let observers = try state.withLock { state throws(QMPError) -> [AsyncStream<Runstate>.Continuation] in
            guard state.runstate == .idle, !state.used else {
                throw .invalidState("this client is already connected or was connected before; make a new one")
            }
            state.used = true
            state.runstate = .connecting
            return Array(state.runstateObservers.values)
        }
        for observer in observers { observer.yield(.connecting) }
    }

    /// Back to idle after a connection attempt that never got a channel.
    private func endWithoutConnection() {
        let observers = state.withLock { state -> [AsyncStream<Runstate>.Continuation] in
            state.runstate = .idle
            state.closed = true
            return Array(state.runstateObservers.values)
        }
        for observer in observers { observer.yield(.idle) }
        finishListeners()
    }

    private func handshake(over transport: any QMPTransport) async throws(QMPError) {
        let mode = configuration.mode
        state.withLock { state in
            state.transport = transport
            state.phase = mode == .qmp ? .greeting : .agentSync(id: Int.random(in: 1...Int(Int32.max)))
        }
        let timeout = configuration.handshakeTimeout
        let timer = transport.eventLoop.scheduleTask(
            in: .nanoseconds(
                Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        ) { [self] in
            let what = state.withLock { state -> String? in
                guard state.runstate == .connecting else { return nil }
                switch state.phase {
                case .greeting:
                    // QEMU accepts a second client on a monitor's socket but greets only one, and
                    // a guest agent never greets.
                    return "the server sent no greeting within \(timeout.secondsDescription): another client may hold "
                        + "the socket (QEMU serves one client per monitor), or it is a guest agent's socket "
                        + "(use guest-agent mode, -g)"
                case .agentSync:
                    return "the guest agent did not answer guest-sync-delimited within \(timeout.secondsDescription)"
                case .ready: return "the server did not answer qmp_capabilities within \(timeout.secondsDescription)"
                }
            }
            if let what { self.fail(.handshakeFailed(what)) }
        }
        defer { timer.cancel() }
        do throws(QMPError) {
            switch mode {
            case .qmp:
                let greeting = try Greeting(message: try await awaitHandshake())
                state.withLock { state in
                    state.greeting = greeting
                    state.phase = .ready
                }
                if configuration.negotiate {
                    var arguments = JSONObject()
                    if configuration.enableOOB && greeting.capabilities.contains("oob") {
                        arguments["enable"] = ["oob"]
                    }
                    do throws(QMPError) {
                        _ = try await execute("qmp_capabilities", arguments: arguments.isEmpty ? nil : arguments)
                    } catch .commandFailed(let errorClass, let description) {
                        throw .handshakeFailed("qmp_capabilities was refused: \(errorClass): \(description)")
                    }
                }
            case .guestAgent:
                guard case .agentSync(let id) = state.withLock({ $0.phase }) else { return }
                // The 0xFF makes qemu-ga drop any half-received input; it answers with an id-less
                // error we ignore, then with 0xFF and our id.
                var bytes: [UInt8] = [0xFF]
                let sync: JSONValue = ["execute": "guest-sync-delimited", "arguments": ["id": .number(JSONNumber(id))]]
                sync.write(to: &bytes)
                configuration.messageObserver?(.sent, sync.serialized())
                _ = transport.send(bytes)
                _ = try await awaitHandshake()
                state.withLock { $0.phase = .ready }
            }
        } catch {
            fail(error)
            _ = await waitUntilDisconnected()
            throw handshakeError(from: error)
        }
        setRunstate(.running, onlyFrom: .connecting)
        if runstate != .running {
            throw handshakeError(from: disconnectCause ?? .disconnected("the connection closed during the handshake"))
        }
    }

    private func handshakeError(from error: QMPError) -> QMPError {
        switch state.withLock({ $0.disconnectCause }) ?? error {
        case .handshakeFailed(let message): return .handshakeFailed(message)
        case .protocolViolation(let message), .disconnected(let message), .invalidState(let message),
            .invalidArgument(let message),
            .couldNotConnect(let message), .timedOut(let message), .cancelled(let message):
            return .handshakeFailed(message)
        case .commandFailed(let errorClass, let description): return .handshakeFailed("\(errorClass): \(description)")
        }
    }

    private func awaitHandshake() async throws(QMPError) -> JSONObject {
        try await withCheckedContinuation { (continuation: CheckedContinuation<Result<JSONObject, QMPError>, Never>) in
            let ready = state.withLock { state -> Result<JSONObject, QMPError>? in
                if let result = state.handshakeResult {
                    state.handshakeResult = nil
                    return result
                }
                state.handshakeWaiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }.get()
    }

    // MARK: - Commands

    /// Runs `command` and returns its `return` value, or throws ``QMPError/commandFailed(errorClass:description:)``
    /// with QEMU's error class and description. `oob` sends it as `exec-oob`. `descriptors` are
    /// passed with SCM_RIGHTS just before the command (for `add-fd` and `getfd`; UNIX sockets only).
    ///
    /// Waits for the reply at most `timeout` (`nil`: as long as it takes), and no longer than the
    /// calling task is not cancelled: it then throws ``QMPError/timedOut(_:)`` or
    /// ``QMPError/cancelled(_:)``, and the command's reply, should the server still send it, is
    /// dropped (``Configuration/logger`` says so) without ending the session.
    @discardableResult
    public func execute(
        _ command: String, arguments: JSONObject? = nil, oob: Bool = false, passing descriptors: [Int32] = [],
        timeout: Duration? = nil
    ) async throws(QMPError) -> JSONValue {
        var message = JSONObject()
        message[oob ? "exec-oob" : "execute"] = .string(command)
        if let arguments { message["arguments"] = .object(arguments) }
        let reply = try await send(message, passing: descriptors, timeout: timeout)
        if let error = reply["error"] {
            throw .commandFailed(
                errorClass: error["class"]?.stringValue ?? "Error",
                description: error["desc"]?.stringValue ?? JSONValue.object(reply).serialized()
            )
        }
        return reply["return"] ?? .null
    }

    /// Sends a message as written and returns the whole reply object (`return` or `error`).
    ///
    /// The client replaces the message's `id` with its own to route the reply, then puts the
    /// caller's `id` back into the reply (or leaves none if the caller gave none). Guest-agent
    /// commands that never reply return an empty object once written. `timeout` and cancellation
    /// end the wait as for ``execute(_:arguments:oob:passing:timeout:)``.
    public func send(
        _ message: JSONObject, passing descriptors: [Int32] = [], timeout: Duration? = nil
    ) async throws(QMPError) -> JSONObject {
        try await request(message, passing: descriptors, timeout: timeout).message
    }

    /// A reply and where it fell in the event stream.
    public struct Reply: Sendable {
        /// The reply object, with the caller's `id` (if any) restored.
        public let message: JSONObject
        /// The last event received before this reply, so a caller printing both can keep wire order:
        /// events up to the mark came before the reply, later ones after it.
        public let eventMark: EventMark
    }

    /// Like ``send(_:passing:timeout:)``, also telling where the reply fell among the events.
    ///
    /// A task cancelled before the message is written sends nothing.
    public func request(
        _ message: JSONObject, passing descriptors: [Int32] = [], timeout: Duration? = nil
    ) async throws(QMPError) -> Reply {
        let name = message["execute"]?.stringValue ?? message["exec-oob"]?.stringValue ?? "the message"
        let expectsReply = !(configuration.mode == .guestAgent && Self.agentCommandsWithoutReply.contains(name))
        if Task.isCancelled { throw .cancelled("\(name) was not sent: interrupted") }
        if !descriptors.isEmpty { try await pass(descriptors) }
        let callerID = message["id"]
        // Taken before waiting, so that a cancellation arriving at any moment knows what to abandon.
        let id = state.withLock { state -> Int in
            defer { state.nextID += 1 }
            return state.nextID
        }
        var timer: Scheduled<Void>?
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<Reply, QMPError>, Never>) in
                let registered = state.withLock { state -> Result<any QMPTransport, QMPError> in
                    guard let transport = state.transport, !state.closed,
                        state.runstate == .running || (state.runstate == .connecting && state.phase == .ready)
                    else {
                        return .failure(state.notConnectedError)
                    }
                    // Cancelled before anything was written: nothing to abandon on the server.
                    if Task.isCancelled { return .failure(.cancelled("\(name) was not sent: interrupted")) }
                    if expectsReply {
                        state.pending[id] = Pending(continuation: continuation, callerID: callerID, name: name)
                    }
                    return .success(transport)
                }
                let transport: any QMPTransport
                switch registered {
                case .failure(let error):
                    continuation.resume(returning: .failure(error))
                    return
                case .success(let registeredTransport):
                    transport = registeredTransport
                }
                var outgoing = message
                outgoing["id"] = .number(JSONNumber(id))
                var bytes: [UInt8] = []
                bytes.reserveCapacity(128)
                JSONValue.object(outgoing).write(to: &bytes)
                configuration.messageObserver?(.sent, String(decoding: bytes, as: UTF8.self))
                let written = transport.send(bytes)
                guard expectsReply else {
                    written.whenComplete { outcome in
                        switch outcome {
                        case .success:
                            let mark = EventMark(sequence: self.state.withLock { $0.eventSequence })
                            continuation.resume(returning: .success(Reply(message: JSONObject(), eventMark: mark)))
                        case .failure(let error):
                            continuation.resume(
                                returning: .failure(.disconnected("could not send \(name): \(Self.describe(error))")))
                        }
                    }
                    return
                }
                written.whenFailure { [self] error in
                    let pending = state.withLock { $0.pending.removeValue(forKey: id) }
                    pending?.continuation.resume(
                        returning: .failure(.disconnected("could not send \(name): \(Self.describe(error))")))
                }
                if let timeout {
                    timer = transport.eventLoop.scheduleTask(in: TimeAmount(timeout)) { [self] in
                        abandon(id, because: .timedOut("no reply to \(name) within \(timeout.secondsDescription)"))
                    }
                }
                // A cancellation that came before the command was registered found nothing to
                // abandon; the flag it set is seen here.
                if Task.isCancelled { abandon(id, because: .cancelled("the reply to \(name) was abandoned")) }
            }
        } onCancel: {
            abandon(id, because: .cancelled("the reply to \(name) was abandoned"))
        }
        timer?.cancel()
        return try result.get()
    }

    /// Stops waiting for the reply to command `id`, failing its caller with `error`. The id is
    /// remembered so that the reply, if it still comes, is dropped as late rather than unknown.
    /// Does nothing once the reply has come (or the connection has ended).
    private func abandon(_ id: Int, because error: QMPError) {
        let pending = state.withLock { state -> Pending? in
            guard let pending = state.pending.removeValue(forKey: id) else { return nil }
            state.rememberAbandoned(id, name: pending.name)
            return pending
        }
        pending?.continuation.resume(returning: .failure(error))
    }

    /// Passes descriptors ahead of the next command, after everything already queued is written.
    private func pass(_ descriptors: [Int32]) async throws(QMPError) {
        let transport = state.withLock { $0.transport }
        guard let transport, runstate == .running else { throw state.withLock { $0.notConnectedError } }
        try await transport.passDescriptors(descriptors)
    }

    // MARK: - Disconnecting

    /// Closes the connection. Pending commands fail with ``QMPError/disconnected(_:)``; listeners
    /// end after their queued events. Returns when the client is idle again.
    public func disconnect() async {
        let transport = state.withLock { state -> (any QMPTransport)? in
            guard state.runstate != .idle, !state.closed else { return nil }
            state.runstate = .disconnecting
            return state.transport
        }
        guard let transport else { return }
        notifyObservers(.disconnecting)
        transport.close()
        _ = await waitUntilDisconnected()
    }

    /// Waits until the connection has ended and returns why: `nil` after ``disconnect()``, otherwise
    /// the cause (the server closed the connection, broke the protocol, ...). Reported once, here and in
    /// ``disconnectCause``; every pending command has failed by then.
    public func waitUntilDisconnected() async -> QMPError? {
        await withCheckedContinuation { (continuation: CheckedContinuation<QMPError?, Never>) in
            let done = state.withLock { state -> Bool in
                if state.closed && state.runstate == .idle { return true }
                state.disconnectWaiters.append(continuation)
                return false
            }
            if done { continuation.resume(returning: state.withLock { $0.disconnectCause }) }
        }
    }

    /// Ends the connection because of `cause`; the first cause wins.
    func fail(_ cause: QMPError) {
        let transport = state.withLock { state -> (any QMPTransport)? in
            guard !state.closed else { return nil }
            if state.disconnectCause == nil { state.disconnectCause = cause }
            return state.transport
        }
        transport?.close()
    }

    func setRunstate(_ runstate: Runstate, onlyFrom expected: Runstate) {
        let changed = state.withLock { state -> Bool in
            guard state.runstate == expected, !state.closed else { return false }
            state.runstate = runstate
            return true
        }
        if changed { notifyObservers(runstate) }
    }

    func notifyObservers(_ runstate: Runstate) {
        let observers = state.withLock { Array($0.runstateObservers.values) }
        for observer in observers { observer.yield(runstate) }
    }

    func finishListeners() {
        let listeners = state.withLock { $0.listeners }
        for listener in listeners { listener.finish() }
    }

    /// A system or NIO error in words, without Swift type names.
    static func describe(_ error: any Error) -> String {
        if let error = error as? QMPError { return error.description }
        if let error = error as? IOError { return UnixSocket.errorText(error.errnoCode) }
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return describe(first.error) }
            if let dns = error.dnsAAAAError ?? error.dnsAError { return "could not resolve \(error.host): \(dns)" }
            return "could not resolve \(error.host)"
        }
        if error is ChannelError {
            switch error as! ChannelError {
            case .connectTimeout: return "timed out"
            case .ioOnClosedChannel, .alreadyClosed, .eof: return "the connection is closed"
            default: break
            }
        }
        return String(describing: error)
    }
}
