import NIOCore
import NIOPosix
import QMP
import Synchronization

/// A domain's QEMU monitor reached through libvirt, as a ``QMPTransport``: commands go through
/// libvirt's QEMU passthrough one at a time, in order, and QEMU's events come from libvirt's
/// monitor-event callback.
///
/// libvirt holds the monitor and negotiated with QEMU long ago, so this transport plays the
/// server's part where the passthrough has none:
/// - the greeting is made from `query-version` (capabilities: none), and `qmp_capabilities` is
///   answered here;
/// - libvirt refuses commands that carry an `id`: the client's id is taken off on the way out and
///   put back on the reply (so replies are matched by call);
/// - `exec-oob` cannot go through (libvirt runs commands in turn): it gets an error reply;
/// - file descriptors travel with the next command (libvirt's variant with files), to a local
///   daemon only.
///
/// The transport ends when the domain stops or the connection to libvirtd is lost.
public final class LibvirtTransport: QMPTransport {
    public let eventLoop: any EventLoop
    /// The domain whose monitor this is.
    public let domain: LibvirtDomain
    private let inbound: QMPInbound
    /// Whether each passthrough call is made on ``eventLoop`` itself (see
    /// ``open(_:inbound:callsOnEventLoop:)``).
    private let callsOnEventLoop: Bool
    private let state = Mutex(State())

    private struct State {
        var closed = false
        /// Set on the event loop when the client has been told of the end: nothing after it.
        var inboundEnded = false
        var registrations: [LibvirtEventRegistration] = []
        /// Descriptors to go with the next command.
        var descriptors: [Int32] = []
    }

    /// Why `exec-oob` is refused.
    public static let outOfBandRefusal =
        "exec-oob cannot go through libvirt: its QEMU passthrough runs one command at a time"

    private init(domain: LibvirtDomain, inbound: QMPInbound, callsOnEventLoop: Bool) {
        self.domain = domain
        self.inbound = inbound
        self.callsOnEventLoop = callsOnEventLoop
        eventLoop = MultiThreadedEventLoopGroup.singleton.next()
    }

    /// Opens the transport to `domain`'s monitor: watches its events, its end and the daemon
    /// connection, then greets `inbound` with the QEMU version. Throws
    /// ``QMPError/couldNotConnect(_:)`` when libvirt refuses any of it.
    ///
    /// libvirt's passthrough call blocks until QEMU's reply. By default it is made on the
    /// connection's own thread, so ``eventLoop`` stays free meanwhile: a reply timeout, another
    /// target, the user's keys are served while a command is out. That costs two hand-offs
    /// between threads a command (there and back: about twice the context switches of a C loop
    /// of the same calls). With `callsOnEventLoop`, a command sent from ``eventLoop`` is called there
    /// (one sent from elsewhere is moved there first): for a caller that works in lock-step on
    /// that loop and sets no reply timeout, which waits for each reply anyway, so nothing else on
    /// the loop (a timer) runs until the reply is in.
    public static func open(
        _ domain: LibvirtDomain, inbound: QMPInbound, callsOnEventLoop: Bool = false
    ) async throws(QMPError) -> LibvirtTransport {
        let transport = LibvirtTransport(domain: domain, inbound: inbound, callsOnEventLoop: callsOnEventLoop)
        do throws(QMPError) {
            // Events first: none between the version query and the registration is lost.
            let events = try await domain.monitorEvents { [weak transport] event in transport?.deliver(event) }
            transport.keep(events)
            let stop = try await domain.onStop { [weak transport] in
                transport?.end(because: .disconnected("domain '\(domain.name)' stopped"))
            }
            transport.keep(stop)
            domain.connection.onClose { [weak transport] reason in transport?.end(because: .disconnected(reason)) }
            let reply = try await domain.monitorCommand(#"{"execute": "query-version"}"#)
            guard case .object(let answer) = try? JSONParser.parse(Array(reply.utf8)), let version = answer["return"]
            else {
                throw QMPError.couldNotConnect(
                    "domain '\(domain.name)' did not tell its QEMU version: \(reply.prefix(200))")
            }
            transport.deliver(["QMP": ["version": version, "capabilities": []]])
        } catch {
            transport.end(because: nil, notify: false)
            switch error {
            case .couldNotConnect: throw error
            default: throw .couldNotConnect("could not reach the monitor of '\(domain.name)': \(error.description)")
            }
        }
        return transport
    }

    public func send(_ message: [UInt8]) -> EventLoopFuture<Void> {
        guard !state.withLock({ $0.closed }) else {
            return eventLoop.makeFailedFuture(QMPError.disconnected("the connection to libvirt is closed"))
        }
        guard case .object(let command) = try? JSONParser.parse(message) else {
            return eventLoop.makeFailedFuture(QMPError.invalidArgument("not a JSON object"))
        }
        return send(command: command, id: command["id"])
    }

    /// The client's commands come here as they are: no JSON text to parse again for the id.
    public func send(_ message: JSONObject, id: Int) -> EventLoopFuture<Void> {
        send(command: message, id: .number(JSONNumber(id)))
    }

    /// Sends `command` without its `id` (libvirt refuses ids); the reply gets `id` back.
    private func send(command message: JSONObject, id: JSONValue?) -> EventLoopFuture<Void> {
        guard !state.withLock({ $0.closed }) else {
            return eventLoop.makeFailedFuture(QMPError.disconnected("the connection to libvirt is closed"))
        }
        var command = message
        command["id"] = nil
        if command["exec-oob"] != nil {
            reply(["error": ["class": "GenericError", "desc": .string(Self.outOfBandRefusal)]], id: id)
        } else if command["execute"] == "qmp_capabilities" {
            // libvirt negotiated when it started the domain.
            reply(["return": [:]], id: id)
        } else {
            let descriptors = state.withLock { state in
                defer { state.descriptors = [] }
                return state.descriptors
            }
            let quitting = command["execute"] == "quit"
            let text = JSONValue.object(command).serialized()
            if callsOnEventLoop {
                let call = { @Sendable [self] in
                    finish(domain.callMonitor(text, passing: descriptors), id: id, quitting: quitting)
                }
                if eventLoop.inEventLoop { call() } else { eventLoop.execute(call) }
            } else {
                domain.monitorCommand(text, passing: descriptors) { [self] result in
                    finish(result, id: id, quitting: quitting)
                }
            }
        }
        return eventLoop.makeSucceededFuture(())
    }

    /// What a passthrough call's outcome means for the client: a reply (QEMU's, or an error for a
    /// call libvirt refused), or the end of the transport.
    private func finish(_ result: Result<String, QMPError>, id: JSONValue?, quitting: Bool) {
        switch result {
        case .success(let text):
            guard case .object(let answer) = try? JSONParser.parse(text) else {
                end(
                    because: .protocolViolation(
                        "libvirt passed on a reply that is not a JSON object: \(text.prefix(120))"))
                return
            }
            reply(answer, id: id)
        case .failure(.disconnected(let reason)):
            end(because: .disconnected(reason))
        case .failure where quitting:
            // QEMU quit before libvirt read its reply: the monitor is gone, as asked.
            end(because: .disconnected("domain '\(domain.name)' quit"))
        case .failure(let error):
            // libvirt refused the call itself: that command fails, the session goes on.
            reply(["error": ["class": "GenericError", "desc": .string("libvirt: \(error.description)")]], id: id)
        }
    }

    public func passDescriptors(_ descriptors: [Int32]) async throws(QMPError) {
        guard !domain.connection.isRemote else {
            throw .invalidArgument(
                "file descriptors can only be passed to a domain of a local libvirtd, not \(domain.connection.uri)")
        }
        state.withLock { $0.descriptors = descriptors }
    }

    /// libvirt has no way to hold QEMU's events back: listeners drop their oldest instead.
    public func setReading(_ on: Bool) {}

    public func close() {
        end(because: nil)
    }

    // MARK: - Internals

    private func keep(_ registration: LibvirtEventRegistration) {
        let closed = state.withLock { state -> Bool in
            if !state.closed { state.registrations.append(registration) }
            return state.closed
        }
        if closed { cancel([registration]) }
    }

    /// Puts the client's id back on a reply (or on one made here) and hands it on as it is.
    private func reply(_ answer: JSONObject, id: JSONValue?) {
        var answer = answer
        answer["id"] = id
        eventLoop.execute { [self, answer] in
            guard !state.withLock({ $0.inboundEnded }) else { return }
            inbound.receive(answer)
            inbound.endOfBatch()
        }
    }

    private func deliver(_ event: LibvirtMonitorEvent) {
        var message: JSONObject = [
            "event": .string(event.name),
            "timestamp": [
                "seconds": .number(JSONNumber(event.seconds)),
                "microseconds": .number(JSONNumber(Int64(event.microseconds))),
            ],
        ]
        if let details = event.details, let data = try? JSONParser.parse(Array(details.utf8)) {
            message["data"] = data
        }
        deliver(.object(message))
    }

    private func deliver(_ message: JSONValue) {
        let bytes = Array(message.serialized().utf8)
        eventLoop.execute { [self] in
            guard !state.withLock({ $0.inboundEnded }) else { return }
            // A message that broke the protocol makes the client close this transport.
            _ = bytes.withUnsafeBytes { inbound.receive(message: $0) }
            inbound.endOfBatch()
        }
    }

    /// Ends the transport once: stops libvirt's callbacks and tells the client why (`nil`: it
    /// asked to close).
    private func end(because cause: QMPError?, notify: Bool = true) {
        let registrations = state.withLock { state -> [LibvirtEventRegistration]? in
            guard !state.closed else { return nil }
            state.closed = true
            defer { state.registrations = [] }
            return state.registrations
        }
        guard let registrations else { return }
        cancel(registrations)
        if notify {
            // After what was delivered before the end, in order.
            eventLoop.execute { [self] in
                state.withLock { $0.inboundEnded = true }
                inbound.closed(error: cause, partial: false)
            }
        }
    }

    /// Deregisters off the caller's thread: each is a call to the daemon, and the caller may be
    /// libvirt's own event thread.
    private func cancel(_ registrations: [LibvirtEventRegistration]) {
        guard !registrations.isEmpty else { return }
        domain.connection.queue.async {
            for registration in registrations { registration.cancel() }
        }
    }
}
