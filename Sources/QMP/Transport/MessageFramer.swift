import Glibc
import NIOCore

/// Receives whole messages from a ``MessageFramer``, on the channel's event loop.
protocol MessageSink: AnyObject, Sendable {
    /// One message's bytes (a line without its line ending). Valid only during the call. Returns
    /// `false` when the message ended the session (a protocol violation): the framer then
    /// delivers nothing more, not even the rest of the same read.
    @discardableResult
    func receive(message: UnsafeRawBufferPointer) -> Bool
    /// One message already parsed (see ``QMPInbound/receive(_:)``); returns as ``receive(message:)``.
    @discardableResult
    func receive(object message: JSONObject) -> Bool
    /// Every complete message of the latest read has been passed to ``receive(message:)``.
    func endOfRead()
    /// The stream broke its framing (a message larger than the limit).
    func framingFailed(_ reason: String)
    /// The connection is closed; `partial` is true when it ended inside a message.
    func connectionClosed(error: (any Error)?, partial: Bool)
}

extension MessageSink {
    /// By default, the message's JSON text to ``receive(message:)``.
    func receive(object message: JSONObject) -> Bool {
        var bytes: [UInt8] = []
        JSONValue.object(message).write(to: &bytes)
        return bytes.withUnsafeBytes { receive(message: $0) }
    }
}

/// Splits the byte stream into messages. QEMU ends each JSON message with `\r\n` (qemu-ga with
/// `\n`), and JSON text never contains a raw newline, so a line is a message. Leading 0xFF bytes
/// (qemu-ga's sync sentinel, or strays) and whitespace are skipped.
///
/// Messages are handed on without copying, straight from NIO's buffer, so an event flood costs one
/// parse per event and nothing more.
final class MessageFramer: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// QMP replies can be large (a 207 KB schema, multi-megabyte query results) but not this large.
    static let maximumMessageSize = 64 << 20

    private let sink: any MessageSink
    private var buffer: ByteBuffer?
    /// How far the current buffer was already searched for a newline.
    private var scanned = 0
    /// The stream broke its framing, or a message ended the session: nothing more is delivered.
    private var failed = false
    private var closeError: (any Error)?

    init(sink: any MessageSink) {
        self.sink = sink
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        var incoming = unwrapInboundIn(data)
        if buffer == nil {
            buffer = incoming
        } else {
            buffer!.writeBuffer(&incoming)
        }
        deliverCompleteMessages(context: context)
        sink.endOfRead()
    }

    private func deliverCompleteMessages(context: ChannelHandlerContext) {
        guard var current = buffer else { return }
        buffer = nil
        let consumed = current.withUnsafeReadableBytes { bytes -> Int in
            var start = 0
            var searchFrom = scanned
            while searchFrom < bytes.count {
                let remaining = bytes.count - searchFrom
                guard let found = memchr(bytes.baseAddress! + searchFrom, 0x0A, remaining) else {
                    searchFrom = bytes.count
                    break
                }
                let end = bytes.baseAddress!.distance(to: UnsafeRawPointer(found))
                deliver(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                start = end + 1
                searchFrom = start
                if failed { break }
            }
            scanned = searchFrom - start
            return start
        }
        current.moveReaderIndex(forwardBy: consumed)
        if failed { return }
        if current.readableBytes > Self.maximumMessageSize {
            failed = true
            sink.framingFailed("a message exceeded \(Self.maximumMessageSize >> 20) MiB")
            context.close(promise: nil)
            return
        }
        if current.readableBytes > 0 {
            if current.readerIndex > 1 << 20 { current.discardReadBytes() }
            buffer = current
        }
    }

    private func deliver(_ line: UnsafeRawBufferPointer) {
        guard !failed else { return }
        var lower = line.startIndex
        var upper = line.endIndex
        while lower < upper, line[lower] == 0xFF || line[lower] == 0x20 || line[lower] == 0x09 || line[lower] == 0x0D {
            lower += 1
        }
        while upper > lower, line[upper - 1] == 0x0D || line[upper - 1] == 0x20 || line[upper - 1] == 0x09 {
            upper -= 1
        }
        guard lower < upper else { return }
        if !sink.receive(message: UnsafeRawBufferPointer(rebasing: line[lower..<upper])) { failed = true }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closeError = closeError ?? error
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let partial = (buffer?.readableBytesView.contains(where: { $0 != 0xFF && $0 > 0x20 })) ?? false
        sink.connectionClosed(error: closeError, partial: partial && !failed)
        buffer = nil
        context.fireChannelInactive()
    }
}
