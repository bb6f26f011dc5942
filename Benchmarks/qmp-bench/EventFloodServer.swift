import QMPTestSupport
import Synchronization

/// A fake QMP server that, on each connection, does the handshake, then sends `count` events as
/// fast as the socket takes them: at once (``Trigger/negotiation``), or once the client asks with a
/// command (``Trigger/command(_:)``, answered `{}` first).
///
/// The events are built once into one buffer (about 140 bytes each, as QEMU writes them, ending in
/// `\r\n`) and sent in large writes, so the server costs next to nothing and the client is what is
/// measured. Every client gets the same bytes. After the flood, any command is answered `{}` until
/// the client leaves.
final class EventFloodServer: Sendable {
    /// What starts the flood on a connection.
    enum Trigger: Sendable {
        /// The end of the handshake: the flood follows the answer to `qmp_capabilities` (for
        /// whole programs, which cannot be asked to send a command of ours first).
        case negotiation
        /// A command the client sends once it is ready, e.g. `x-flood`.
        case command(String)
    }

    let count: Int
    private let server: FakeQMPServer
    private let floodStart = FloodStart()

    var path: String { server.path }

    /// When the latest connection's flood began (just before its first byte was sent), to time
    /// from there to when the client is done.
    var lastFloodStart: ContinuousClock.Instant? { floodStart.instant.withLock { $0 } }

    init(count: Int, trigger: Trigger = .command("x-flood")) throws {
        self.count = count
        let flood = Self.makeFlood(count: count)
        let floodStart = self.floodStart
        server = try FakeQMPServer { connection in
            try connection.handshake()
            if case .command(let name) = trigger {
                let request = try connection.expect(name)
                connection.reply(to: request, with: [:])
            }
            floodStart.instant.withLock { $0 = ContinuousClock.now }
            connection.send(bytes: flood)
            // Keep the connection open until the client has read what it wants and leaves.
            while let message = connection.readMessage(timeout: .seconds(600)) {
                connection.reply(to: message, with: [:])
            }
        }
    }

    func stop() { server.stop() }

    /// The latest flood's start, shared with the connections' threads.
    private final class FloodStart: Sendable {
        let instant = Mutex<ContinuousClock.Instant?>(nil)
    }

    /// `count` JOB_STATUS_CHANGE events with advancing timestamps.
    static func makeFlood(count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count * 150)
        for index in 0..<count {
            let microseconds = 123_456 + index * 7
            let event =
                #"{"event": "JOB_STATUS_CHANGE", "data": {"status": "running", "id": "job123"}, "#
                + #""timestamp": {"seconds": \#(1_700_000_000 + microseconds / 1_000_000), "#
                + #""microseconds": \#(microseconds % 1_000_000)}}"# + "\r\n"
            bytes.append(contentsOf: event.utf8)
        }
        return bytes
    }
}
