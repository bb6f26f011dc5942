import NIOCore

/// What carries QMP messages between a ``QMPClient`` and its server: the seam between the
/// protocol (handshake, ids, routing, events) and the way bytes travel.
///
/// The client's own transport is a stream socket (UNIX or TCP): ``QMPClient/connect(to:)``.
/// Another way of reaching a monitor, say an API that carries whole messages such as libvirt's
/// QEMU passthrough, implements this protocol and is handed to ``QMPClient/connect(using:)``.
///
/// A transport delivers what the server sends to its ``QMPInbound`` on ``eventLoop``, one whole
/// message at a time in the order the server sent them, and reports its end there exactly once
/// (``QMPInbound/closed(error:partial:)``), whether the server went away or ``close()`` was called.
public protocol QMPTransport: AnyObject, Sendable {
    /// Where inbound messages are delivered and the client's timers run.
    var eventLoop: any EventLoop { get }

    /// Sends one message: its JSON text, without a line end (the transport frames it).
    /// The future fails when the message could not be sent.
    func send(_ message: [UInt8]) -> EventLoopFuture<Void>

    /// Sends one command: `message` with `id` as its `id` member (in place of the caller's own).
    /// A transport that carries whole messages (libvirt's passthrough) implements it to take the
    /// message as it is, without parsing its text again; the default writes the JSON text and
    /// sends that as the `send` of bytes does.
    func send(_ message: JSONObject, id: Int) -> EventLoopFuture<Void>

    /// Passes `descriptors` to the server ahead of the next message (SCM_RIGHTS, for `add-fd` and
    /// `getfd`), after everything already sent. Throws when this transport cannot.
    func passDescriptors(_ descriptors: [Int32]) async throws(QMPError)

    /// Stops or resumes taking in messages (a listener that must not drop events is full). A
    /// transport that cannot pause may ignore it: listeners then drop their oldest events.
    func setReading(_ on: Bool)

    /// Ends the connection; ``QMPInbound/closed(error:partial:)`` follows.
    func close()
}

extension QMPTransport {
    public func send(_ message: JSONObject, id: Int) -> EventLoopFuture<Void> {
        send(QMPClient.wireBytes(of: message, id: id))
    }
}

/// The client's side of a ``QMPTransport``: where the transport hands what the server sends.
/// Call it on the transport's event loop only.
public struct QMPInbound: Sendable {
    let sink: any MessageSink

    init(sink: any MessageSink) {
        self.sink = sink
    }

    /// One whole message: the bytes of its JSON text (valid only during the call). Returns
    /// `false` when the message broke the protocol and ended the session: deliver nothing more.
    @discardableResult
    public func receive(message: UnsafeRawBufferPointer) -> Bool {
        sink.receive(message: message)
    }

    /// One whole message the transport has already parsed (a transport that carries whole
    /// messages, such as libvirt's passthrough, need not write it out as text for the client to
    /// parse again). Returns `false` when the message broke the protocol and ended the session.
    @discardableResult
    public func receive(_ message: JSONObject) -> Bool {
        sink.receive(object: message)
    }

    /// Every message of the latest batch has been received: events queued so far go to the
    /// listeners now (one wake-up per batch rather than per event).
    public func endOfBatch() {
        sink.endOfRead()
    }

    /// The server broke the transport's framing (say, a message over the size limit): the
    /// session ends with `reason`.
    public func framingFailed(_ reason: String) {
        sink.framingFailed(reason)
    }

    /// The connection has ended; `error` is why if it broke, `partial` true when it ended inside
    /// a message.
    public func closed(error: (any Error)?, partial: Bool) {
        sink.connectionClosed(error: error, partial: partial)
    }
}
