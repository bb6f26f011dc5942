import NIOCore
import NIOPosix
import QMP
import QMPTestSupport
import Synchronization
import Testing

/// A transport of the test's own behind ``QMPClient/connect(using:)``: the client's handshake,
/// ids, routing and events work over whatever carries whole messages, as libvirt's passthrough
/// does, and a transport's failures reach the caller as the client's own errors.
@Suite("The client over a transport of its user's", .timeLimit(.minutes(1)))
struct TransportSeamTests {
    /// Answers each message with `answer`, greets first, and can push events; delivers
    /// everything on its event loop, as the seam requires.
    final class ScriptedTransport: QMPTransport {
        let eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next()
        private let inbound: QMPInbound
        private let answer: @Sendable (JSONObject) -> JSONObject?
        let sent = Mutex<[JSONObject]>([])
        let readingPaused = Mutex(false)
        private let isClosed = Mutex(false)

        init(inbound: QMPInbound, answer: @escaping @Sendable (JSONObject) -> JSONObject?) {
            self.inbound = inbound
            self.answer = answer
        }

        func deliver(_ message: JSONValue) {
            eventLoop.execute { [inbound] in
                _ = Array(message.serialized().utf8).withUnsafeBytes { inbound.receive(message: $0) }
                inbound.endOfBatch()
            }
        }

        func send(_ message: [UInt8]) -> EventLoopFuture<Void> {
            guard !isClosed.withLock({ $0 }), case .object(let object) = try? JSONParser.parse(message) else {
                return eventLoop.makeFailedFuture(QMPError.disconnected("closed"))
            }
            sent.withLock { $0.append(object) }
            if var reply = answer(object) {
                reply["id"] = object["id"]
                deliver(.object(reply))
            }
            return eventLoop.makeSucceededFuture(())
        }

        func passDescriptors(_ descriptors: [Int32]) async throws(QMPError) {
            throw .invalidArgument("this transport passes no descriptors")
        }

        func setReading(_ on: Bool) {
            readingPaused.withLock { $0 = !on }
        }

        func close() {
            guard
                isClosed.withLock({ closed in
                    defer { closed = true }; return !closed
                })
            else { return }
            eventLoop.execute { [inbound] in inbound.closed(error: nil, partial: false) }
        }
    }

    static let greeting: JSONValue = [
        "QMP": ["version": ["qemu": ["major": 9, "minor": 1, "micro": 0], "package": "seam"], "capabilities": []]
    ]

    @Test func commandsRepliesAndEventsTravelOverTheCallersTransport() async throws {
        let made = Mutex<ScriptedTransport?>(nil)
        let client = QMPClient()
        try await client.connect { inbound in
            let transport = ScriptedTransport(inbound: inbound) { message in
                switch message["execute"]?.stringValue {
                case "qmp_capabilities": return ["return": [:]]
                case "query-status": return ["return": ["status": "running", "running": true]]
                default: return ["error": ["class": "CommandNotFound", "desc": "no such command"]]
                }
            }
            transport.deliver(Self.greeting)
            made.withLock { $0 = transport }
            return transport
        }
        let transport = try #require(made.withLock { $0 })
        #expect(client.greeting?.version == "9.1.0")
        #expect(client.greeting?.package == "seam")

        let status = try await client.execute("query-status")
        #expect(status["status"] == "running")
        // The caller's own id is put back on the reply, whatever id travelled.
        let reply = try await client.send(["execute": "query-status", "id": "mine"])
        #expect(reply["id"] == "mine")
        #expect(transport.sent.withLock { $0.map { $0["id"] } }.allSatisfy { $0?.intValue != nil })
        await #expect(throws: QMPError.commandFailed(errorClass: "CommandNotFound", description: "no such command")) {
            try await client.execute("bogus")
        }

        let events = client.events
        transport.deliver(["event": "STOP", "timestamp": ["seconds": 1, "microseconds": 2]])
        let event = try await within(.seconds(10), "the STOP event") { await events.next() }
        #expect(event?.name == "STOP")

        await client.disconnect()
        #expect(client.runstate == .idle)
        #expect(client.disconnectCause == nil)
        await #expect(throws: QMPError.self) { try await client.execute("query-status") }
    }

    @Test func theTransportEndingFailsWhatWaitsWithItsCause() async throws {
        let made = Mutex<ScriptedTransport?>(nil)
        let client = QMPClient()
        try await client.connect { inbound in
            // Negotiation is answered; query-status never is.
            let transport = ScriptedTransport(inbound: inbound) { message in
                message["execute"] == "qmp_capabilities" ? ["return": [:]] : nil
            }
            transport.deliver(Self.greeting)
            made.withLock { $0 = transport }
            return transport
        }
        let transport = try #require(made.withLock { $0 })
        let waiting = Task { () async throws(QMPError) -> JSONValue in try await client.execute("query-status") }
        try await within(.seconds(10), "the command to be sent") {
            while transport.sent.withLock({ $0.count }) < 2 { try await Task.sleep(for: .milliseconds(5)) }
        }
        transport.close()
        await #expect(throws: QMPError.disconnected("the server closed the connection")) { try await waiting.value }
        let cause = try await within(.seconds(10), "the disconnection") { await client.waitUntilDisconnected() }
        #expect(cause == .disconnected("the server closed the connection"))
    }

    @Test func aTransportThatCannotOpenFailsTheConnectionInWords() async {
        struct Refused: Error, CustomStringConvertible { var description: String { "the domain is not running" } }
        let client = QMPClient()
        await #expect(throws: QMPError.couldNotConnect("could not connect: the domain is not running")) {
            try await client.connect { _ in throw Refused() }
        }
        #expect(client.runstate == .idle)
    }

    @Test func descriptorsOverATransportThatCannotPassThemFailOnlyThatCommand() async throws {
        let client = QMPClient()
        try await client.connect { inbound in
            let transport = ScriptedTransport(inbound: inbound) { _ in ["return": [:]] }
            transport.deliver(Self.greeting)
            return transport
        }
        await #expect(throws: QMPError.invalidArgument("this transport passes no descriptors")) {
            try await client.execute("getfd", arguments: ["fdname": "x"], passing: [0])
        }
        _ = try await client.execute("query-status")
        await client.disconnect()
    }
}
