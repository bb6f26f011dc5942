import QMPTestSupport

/// A fake QMP server that, on each connection, does the handshake, waits for `x-flood`, answers
/// `{}`, then sends `count` events as fast as the socket takes them.
///
/// The events are built once into one buffer (about 140 bytes each, as QEMU writes them, ending in
/// `\r\n`) and sent in large writes, so the server costs next to nothing and the client is what is
/// measured. Every client gets the same bytes.
final class EventFloodServer: Sendable {
    let count: Int
    private let server: FakeQMPServer

    var path: String { server.path }

    init(count: Int) throws {
        self.count = count
        let flood = Self.makeFlood(count: count)
        server = try FakeQMPServer { connection in
            try connection.handshake()
            let request = try connection.expect("x-flood")
            connection.reply(to: request, with: [:])
            connection.send(bytes: flood)
            // Keep the connection open until the client has read what it wants and leaves.
            connection.waitForClose(timeout: .seconds(600))
        }
    }

    func stop() { server.stop() }

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
