import Foundation
import QMP
import QMPTestSupport
import QMPTestTraits
import Synchronization
import Testing

/// The fake server splits what a client sends as QEMU does, by balanced brackets rather than by
/// line, so clients that send no newline (Python's qemu.qmp) can talk to it.
@Suite("Fake server framing", .timeLimit(.minutes(1)), .checksFakeServerScripts)
struct FakeServerFramingTests {
    @Test func messagesWithoutNewlinesSplitMidValueAreSeparated() throws {
        let received = Mutex<[String]>([])
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            for _ in 0..<2 {
                let message = try #require(connection.readMessage())
                received.withLock { $0.append(JSONValue.object(message).serialized()) }
                connection.reply(to: message, with: [:])
            }
            connection.waitForClose()
        }
        let socket = try RawSocket(path: server.path)
        _ = try socket.readLine()  // the greeting
        try socket.write(#"{"execute": "qmp_capabilities"}"#)
        _ = try socket.readLine()
        // Brackets and an escaped quote inside a string, 0xFF and whitespace between messages,
        // the second message cut in two writes.
        try socket.write(#"{"execute": "a", "arguments": {"s": "} ] \" {"}}"# + "\u{FF} \r\n" + #"{"exec"#)
        _ = try socket.readLine()
        try socket.write(#"ute": "b"}"#)
        _ = try socket.readLine()
        #expect(
            received.withLock { $0 } == [
                #"{"execute":"a","arguments":{"s":"} ] \" {"}}"#, #"{"execute":"b"}"#,
            ])
    }
}

/// A blocking UNIX socket client that writes text as is and reads lines.
private final class RawSocket {
    private let descriptor: Int32
    private var pending: [UInt8] = []

    init(path: String) throws {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        guard FakeQMPServer.withSocketAddress(path, { connect(descriptor, $0, $1) }) == 0 else {
            throw POSIXError(.ECONNREFUSED)
        }
    }

    deinit { close(descriptor) }

    /// Writes `text`'s UTF-8, except that U+00FF stands for the raw byte 0xFF.
    func write(_ text: String) throws {
        let bytes = text.unicodeScalars.flatMap { $0 == "\u{FF}" ? [0xFF] : Array(String($0).utf8) }
        guard send(descriptor, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else { throw POSIXError(.EPIPE) }
    }

    func readLine() throws -> String {
        while true {
            if let newline = pending.firstIndex(of: 0x0A) {
                defer { pending.removeSubrange(...newline) }
                return String(decoding: pending[..<newline], as: UTF8.self)
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = recv(descriptor, &chunk, chunk.count, 0)
            guard count > 0 else { throw POSIXError(.ECONNRESET) }
            pending.append(contentsOf: chunk[..<count])
        }
    }
}
