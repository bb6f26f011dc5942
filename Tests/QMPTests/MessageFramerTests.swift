import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@testable import QMP

/// The framer alone, through NIO's EmbeddedChannel: a line is a message, however the stream is
/// cut into reads, and nothing is delivered after the sink says the session ended.
@Suite(.timeLimit(.minutes(1))) struct MessageFramerTests {
    final class RecordingSink: MessageSink {
        private struct Record {
            var messages: [String] = []
            var reads = 0
            var closed: (error: Bool, partial: Bool)?
            var failure: String?
        }
        private let record = Mutex(Record())
        /// The message after which `receive` answers `false` (the session ends).
        let endingMessage: String?

        init(endingAt endingMessage: String? = nil) { self.endingMessage = endingMessage }

        func receive(message: UnsafeRawBufferPointer) -> Bool {
            let text = String(decoding: message, as: UTF8.self)
            record.withLock { $0.messages.append(text) }
            return text != endingMessage
        }
        func endOfRead() { record.withLock { $0.reads += 1 } }
        func framingFailed(_ reason: String) { record.withLock { $0.failure = reason } }
        func connectionClosed(error: (any Error)?, partial: Bool) {
            record.withLock { $0.closed = (error != nil, partial) }
        }
        var messages: [String] { record.withLock { $0.messages } }
        var reads: Int { record.withLock { $0.reads } }
        var closed: (error: Bool, partial: Bool)? { record.withLock { $0.closed } }
    }

    private func feed(_ channel: EmbeddedChannel, _ text: [UInt8]) throws {
        try channel.writeInbound(channel.allocator.buffer(bytes: text))
    }

    @Test func linesAreMessagesHoweverTheReadsCutThem() throws {
        let sink = RecordingSink()
        let channel = EmbeddedChannel(handler: MessageFramer(sink: sink))
        // qemu-ga's 0xFF sentinel and CRLF endings are framing, not message.
        try feed(channel, [0xFF, 0xFF] + Array(#"{"a": 1}"#.utf8) + [0x0D, 0x0A] + Array(#"  {"b""#.utf8))
        #expect(sink.messages == [#"{"a": 1}"#])
        try feed(channel, Array(#": 2}"#.utf8) + [0x0A, 0x0A, 0x20, 0x0D, 0x0A])
        #expect(sink.messages == [#"{"a": 1}"#, #"{"b": 2}"#])
        // One end-of-read per read, so listeners are woken once per read.
        #expect(sink.reads == 2)
        _ = try channel.finish()
        #expect(sink.closed?.partial == false)
    }

    @Test func aByteAtATimeGivesTheSameMessages() throws {
        let sink = RecordingSink()
        let channel = EmbeddedChannel(handler: MessageFramer(sink: sink))
        for byte in Array("{\"event\": \"STOP\"}\r\n{\"return\": {}}\r\n".utf8) { try feed(channel, [byte]) }
        #expect(sink.messages == [#"{"event": "STOP"}"#, #"{"return": {}}"#])
    }

    @Test func nothingIsDeliveredAfterAMessageEndsTheSession() throws {
        let sink = RecordingSink(endingAt: "bad")
        let channel = EmbeddedChannel(handler: MessageFramer(sink: sink))
        try feed(channel, Array("{}\nbad\n{\"after\": 1}\n".utf8))
        try feed(channel, Array("{\"later\": 2}\n".utf8))
        #expect(sink.messages == ["{}", "bad"])
    }

    @Test func aConnectionThatEndsInsideAMessageSaysSo() throws {
        let sink = RecordingSink()
        let channel = EmbeddedChannel(handler: MessageFramer(sink: sink))
        try feed(channel, Array("{\"return\": {}}\n{\"ret".utf8))
        _ = try channel.finish()
        #expect(sink.closed?.partial == true)
    }
}
