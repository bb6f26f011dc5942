import Foundation
import Logging
import QMP
import QMPTestSupport
import QMPTestTraits
import Synchronization
import Testing

/// The client against a fake server that misbehaves in the ways real QEMU will not on demand.
/// Each test states the documented outcome (Docs/ARCHITECTURE.md, "Faults").
@Suite("Client against a misbehaving server", .timeLimit(.minutes(2)), .checksFakeServerScripts)
struct ClientFaultTests {
    func connectedClient(
        _ server: FakeQMPServer, configure: (inout QMPClient.Configuration) -> Void = { _ in }
    ) async throws -> QMPClient {
        var configuration = QMPClient.Configuration()
        // Generous: the whole suite runs in parallel on two cores in a debug build.
        configuration.handshakeTimeout = .seconds(30)
        configure(&configuration)
        let client = QMPClient(configuration: configuration)
        try await client.connect(to: .unix(path: server.path))
        return client
    }

    @Test func negotiatesOOBWhenOfferedAndToleratesUnknownGreetingFields() async throws {
        let server = try FakeQMPServer { connection in
            connection.send(
                #"{"QMP": {"version": {"qemu": {"micro": 1, "minor": 0, "major": 99}, "package": "", "future": 1}, "capabilities": ["oob", "new-thing"], "extra": true}}"#
                    + "\r\n")
            let negotiation = try connection.expect("qmp_capabilities")
            // Only what both sides know: oob, not the capability the client has never heard of.
            let enabled = negotiation["arguments"]?["enable"]
            guard enabled == ["oob"] else {
                throw FakeServerError("expected enable: [\"oob\"], got \(JSONValue.object(negotiation).serialized())")
            }
            connection.reply(to: negotiation, with: [:])
            connection.waitForClose()
        }
        let client = try await connectedClient(server)
        #expect(client.greeting?.version == "99.0.1")
        #expect(client.greeting?.capabilities == ["oob", "new-thing"])
        #expect(client.runstate == .running)
        await client.disconnect()
        #expect(client.runstate == .idle)
        #expect(client.disconnectCause == nil)
    }

    @Test func withoutOOBOfferNegotiatesWithoutArguments() async throws {
        let server = try FakeQMPServer { connection in
            connection.send(
                #"{"QMP": {"version": {"qemu": {"micro": 0, "minor": 0, "major": 5}, "package": ""}, "capabilities": []}}"#
                    + "\r\n")
            let negotiation = try connection.expect("qmp_capabilities")
            guard negotiation["arguments"] == nil else { throw FakeServerError("unexpected arguments") }
            connection.reply(to: negotiation, with: [:])
            connection.waitForClose()
        }
        let client = try await connectedClient(server)
        #expect(client.runstate == .running)
        await client.disconnect()
    }

    @Test func skipNegotiationLeavesItToTheCaller() async throws {
        let server = try FakeQMPServer { connection in
            connection.send(FakeQMPConnection.greeting + "\r\n")
            let first = try connection.expect("query-status")
            connection.replyError(
                to: first, errorClass: "CommandNotFound",
                description: "Expecting capabilities negotiation with 'qmp_capabilities'")
            connection.waitForClose()
        }
        let client = try await connectedClient(server) { $0.negotiate = false }
        await #expect(
            throws: QMPError.commandFailed(
                errorClass: "CommandNotFound", description: "Expecting capabilities negotiation with 'qmp_capabilities'"
            )
        ) {
            try await client.execute("query-status")
        }
        await client.disconnect()
    }

    @Test(arguments: [
        (#"{"hello": 1}"#, "expected a QMP greeting"),
        (#"[1, 2, 3]"#, "where a JSON object was expected"),
        ("garbage", "invalid JSON"),
        (#"{"QMP": {"version": {}, "capabilities": []}}"#, "no version.qemu"),
    ])
    func badGreetingsFailTheHandshake(greeting: String, expected: String) async throws {
        let server = try FakeQMPServer { connection in
            connection.send(greeting + "\r\n")
            connection.waitForClose()
        }
        let client = QMPClient(configuration: .patient)
        do {
            try await client.connect(to: .unix(path: server.path))
            Issue.record("connected despite the greeting \(greeting)")
        } catch {
            guard case .handshakeFailed(let message) = error else {
                Issue.record("expected handshakeFailed, got \(error)")
                return
            }
            #expect(message.contains(expected), "\(message)")
        }
        #expect(client.runstate == .idle)
    }

    /// Real QEMU does this when a client connects while it starts: RESUME, then the greeting.
    @Test func anEventBeforeTheGreetingIsKeptAndTheHandshakeGoesOn() async throws {
        let server = try FakeQMPServer { connection in
            connection.send(#"{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "RESUME"}"# + "\r\n")
            try connection.handshake()
            connection.waitForClose()
        }
        let client = try await connectedClient(server)
        #expect(client.runstate == .running)
        #expect(client.greeting != nil)
        #expect(client.eventHistory.map(\.name) == ["RESUME"])
        #expect(client.events.drain().map(\.name) == ["RESUME"])
        await client.disconnect()
    }

    @Test func refusedNegotiationFailsTheHandshake() async throws {
        let server = try FakeQMPServer { connection in
            connection.send(FakeQMPConnection.greeting + "\r\n")
            let negotiation = try connection.expect("qmp_capabilities")
            connection.replyError(to: negotiation, description: "no way")
            connection.waitForClose()
        }
        await #expect(throws: QMPError.handshakeFailed("qmp_capabilities was refused: GenericError: no way")) {
            try await QMPClient(configuration: .patient).connect(to: .unix(path: server.path))
        }
    }

    @Test func silentServerTimesOutTheHandshake() async throws {
        let server = try FakeQMPServer { connection in connection.waitForClose() }
        var configuration = QMPClient.Configuration()
        configuration.handshakeTimeout = .milliseconds(300)
        let client = QMPClient(configuration: configuration)
        let started = ContinuousClock.now
        let reason =
            "the server sent no greeting within 0.3 s: another client may hold the socket (QEMU serves one client "
            + "per monitor), or it is a guest agent's socket (use guest-agent mode, -g)"
        await #expect(throws: QMPError.handshakeFailed(reason)) {
            try await client.connect(to: .unix(path: server.path))
        }
        // It ends by itself (loosely timed: the suite shares two cores).
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(client.runstate == .idle)
    }

    @Test func connectionCutBeforeGreetingFailsTheHandshake() async throws {
        let server = try FakeQMPServer { connection in connection.close() }
        await #expect(throws: QMPError.handshakeFailed("the server closed the connection")) {
            try await QMPClient(configuration: .patient).connect(to: .unix(path: server.path))
        }
    }

    @Test func missingSocketCannotConnect() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("nothing.sock")
        await #expect(throws: QMPError.couldNotConnect("could not connect to \(path): No such file or directory")) {
            try await QMPClient(configuration: .patient).connect(to: .unix(path: path))
        }
    }

    @Test func repliesAreRoutedByIdWhateverTheirOrder() async throws {
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            var received: [JSONObject] = []
            for _ in 0..<3 { received.append(try #require(connection.readMessage())) }
            for message in received.reversed() {
                connection.reply(to: message, with: message["arguments"]?["value"] ?? .null)
            }
            connection.waitForClose()
        }
        let client = try await connectedClient(server)
        async let first = client.execute("echo", arguments: ["value": "one"])
        async let second = client.execute("echo", arguments: ["value": "two"])
        async let third = client.execute("echo", arguments: ["value": "three"])
        let results = try await [first, second, third]
        #expect(results == ["one", "two", "three"])
        await client.disconnect()
    }

    @Test func replyToUnknownIdIsDroppedAndTheRightOneStillArrives() async throws {
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            let message = try connection.expect("query-status")
            connection.send(#"{"return": {"wrong": true}, "id": 424242}"# + "\r\n")
            connection.send(#"{"return": {"wrong": true}, "id": "not-ours"}"# + "\r\n")
            connection.send(#"{"return": {"wrong": true}}"# + "\r\n")
            connection.reply(to: message, with: ["status": "running"])
            connection.waitForClose()
        }
        let client = try await connectedClient(server)
        #expect(try await client.execute("query-status") == ["status": "running"])
        #expect(client.runstate == .running)
        await client.disconnect()
    }

    @Test(arguments: [
        (#"{"error": {"class": "GenericError", "desc": "JSON parse error"}}"#, "error without an id: JSON parse error"),
        ("this is not json", "invalid JSON"),
        (#"{"return": {}, "id": 1"#, "invalid JSON"),
        ("[1, 2]", "where a JSON object was expected"),
        ("\"just a string\"", "where a JSON object was expected"),
        (String(repeating: "[", count: 200_000), "nesting deeper than"),
    ])
    func protocolViolationsEndTheSessionWithOneClearCause(line: String, expected: String) async throws {
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            _ = try connection.expect("query-status")
            connection.send(line + "\r\n")
            connection.waitForClose()
        }
        let client = try await connectedClient(server)
        do {
            try await client.execute("query-status")
            Issue.record("the command succeeded")
        } catch {
            guard case .disconnected(let message) = error else {
                Issue.record("expected disconnected, got \(error)")
                return
            }
            #expect(message.contains(expected), "\(message)")
        }
        let cause = try await within(.seconds(10), "the end of the session") { await client.waitUntilDisconnected() }
        guard case .protocolViolation(let message) = cause else {
            Issue.record("expected a protocol violation, got \(String(describing: cause))")
            return
        }
        #expect(message.contains(expected))
        #expect(client.runstate == .idle)
        await #expect(throws: QMPError.self) { try await client.execute("query-status") }
    }

    @Test func invalidUTF8IsAProtocolViolationWithThePlace() async throws {
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            _ = try connection.expect("query-status")
            connection.send(bytes: Array(#"{"return": "ab"#.utf8) + [0xC3, 0x28] + Array("\"}\r\n".utf8))
            connection.waitForClose()
        }
        let client = try await connectedClient(server)
        await #expect(throws: QMPError.self) { try await client.execute("query-status") }
        let cause = try await within(.seconds(10), "the end of the session") { await client.waitUntilDisconnected() }
        #expect(cause?.description.contains("invalid UTF-8 in string") == true, "\(String(describing: cause))")
    }

    @Test func sixteenMebibyteReplyArrivesIntact() async throws {
        let size = 16 << 20
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            let message = try connection.expect("big")
            connection.reply(to: message, with: .string(String(repeating: "x", count: size)))
            connection.waitForClose()
        }
        let client = try await connectedClient(server)
        let reply = try await client.execute("big")
        #expect(reply.stringValue?.utf8.count == size)
        await client.disconnect()
    }

    @Test func strayFFBytesAreSkipped() async throws {
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            let message = try connection.expect("query-status")
            connection.send(bytes: [0xFF, 0xFF])
            connection.send(
                bytes: [0xFF]
                    + Array(#"{"event": "STOP", "data": {}, "timestamp": {"seconds": 1, "microseconds": 2}}"#.utf8) + [
                        0x0D, 0x0A,
                    ])
            connection.reply(to: message, with: ["status": "paused"])
            connection.waitForClose()
        }
        let client = try await connectedClient(server)
        #expect(try await client.execute("query-status") == ["status": "paused"])
        #expect(client.events.drain().map(\.name) == ["STOP"])
        await client.disconnect()
    }

    @Test func byteByByteDeliveryWorks() async throws {
        let server = try FakeQMPServer { connection in
            for byte in Array((FakeQMPConnection.greeting + "\r\n").utf8) { connection.send(bytes: [byte]) }
            let negotiation = try connection.expect("qmp_capabilities")
            connection.reply(to: negotiation, with: [:])
            let message = try connection.expect("query-status")
            let id = message["id"]!.serialized()
            let text = #"{"event": "RESUME"}"# + "\n" + #"{"return": {"status": "running"}, "id": "# + id + "}\r\n"
            for byte in Array(text.utf8) { connection.send(bytes: [byte]) }
            connection.waitForClose()
        }
        let client = try await connectedClient(server)
        #expect(try await client.execute("query-status") == ["status": "running"])
        let events = client.events.drain()
        #expect(events.map(\.name) == ["RESUME"])
        #expect(events.first?.data.isEmpty == true)
        #expect(events.first?.timestamp == nil)
        await client.disconnect()
    }

    @Test func cutMidReplyFailsThePendingCommandAndReportsTheCauseOnce() async throws {
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            _ = try connection.expect("query-status")
            connection.send(#"{"return": {"status": "run"#)
            connection.close()
        }
        let client = try await connectedClient(server)
        let listener = client.listen()
        await #expect(throws: QMPError.disconnected("the server closed the connection in the middle of a message")) {
            try await client.execute("query-status")
        }
        let cause = try await within(.seconds(10), "the end of the session") { await client.waitUntilDisconnected() }
        #expect(cause == .disconnected("the server closed the connection in the middle of a message"))
        #expect(client.disconnectCause == .disconnected("the server closed the connection in the middle of a message"))
        #expect(await listener.next() == nil, "listeners end when the connection does")
    }

    @Test func everyPendingCommandFailsOnDisconnect() async throws {
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            for _ in 0..<5 { _ = connection.readMessage() }
            connection.close()
        }
        let client = try await connectedClient(server)
        let failures = await withTaskGroup(of: QMPError?.self) { group in
            for index in 0..<5 {
                group.addTask {
                    do throws(QMPError) {
                        _ = try await client.execute("cmd\(index)")
                        return nil
                    } catch { return error }
                }
            }
            return await group.reduce(into: [QMPError?]()) { $0.append($1) }
        }
        #expect(failures.count == 5)
        #expect(failures.allSatisfy { $0 == .disconnected("the server closed the connection") })
    }

    @Test func eventFloodIsBoundedAndCountsWhatItDrops() async throws {
        let count = 200_000
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            let message = try connection.expect("query-status")
            connection.sendJobEventFlood(count: count, timestamp: (-1, -1))
            connection.reply(to: message, with: ["status": "running"])
            connection.waitForClose()
        }
        let client = try await connectedClient(server) { $0.defaultListenerCapacity = 1000 }
        let small = client.listen(to: ["JOB_STATUS_CHANGE"], capacity: 10)
        #expect(try await client.execute("query-status") == ["status": "running"])
        #expect(client.events.droppedCount == count - 1000)
        let kept = client.events.drain()
        #expect(kept.count == 1000)
        #expect(kept.last?.data["id"] == .string("job\(count)"), "the newest events are kept")
        #expect(kept.last?.timestamp == QMPEvent.Timestamp(seconds: -1, microseconds: -1))
        #expect(small.takeDroppedCount() == count - 10)
        #expect(small.droppedCount == 0)
        #expect(client.eventHistory.count == client.configuration.historyLimit)
        await client.disconnect()
    }

    @Test func aPausingListenerGetsEveryEventOfAFloodWithinBoundedMemory() async throws {
        let count = 200_000
        let capacity = 1000
        let sentSoFar = SentCount()
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            let go = try connection.expect("x-flood")
            connection.reply(to: go, with: [:])
            connection.sendJobEventFlood(count: count) { sentSoFar.value.store($0, ordering: .relaxed) }
            connection.waitForClose(timeout: .seconds(60))
        }
        let client = try await connectedClient(server)
        let listener = client.listen(capacity: capacity, overflow: .pauseReading)
        try await client.execute("x-flood")
        // Should reading never resume, the loop below ends (and the expectations fail) instead of hanging.
        let watchdog = Task {
            try await Task.sleep(for: .seconds(60))
            listener.interruptWaiting()
        }
        defer { watchdog.cancel() }
        // A reader that stalls until the server is stuck: the client must stop reading and the
        // server's writes block, rather than memory fill up. Without the pause the client reads
        // the whole flood, and the server never stops before its end.
        let stuckAt = try await within(.seconds(60), "the server to stop sending or finish") {
            var last = -1
            while true {
                let sent = sentSoFar.value.load(ordering: .relaxed)
                if sent == count || sent == last { return sent }
                last = sent
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        #expect(stuckAt < count, "the server sent the whole flood to a reader that read nothing")
        var received = 0
        var outOfOrder = 0
        var firstBatch: Int?
        while received < count, await listener.waitForEvents() {
            let batch = listener.drain()
            if firstBatch == nil { firstBatch = batch.count }
            for event in batch {
                received += 1
                if event.data["id"] != .string("job\(received)") { outOfOrder += 1 }
            }
        }
        // Queued while the reader stalled: the capacity plus what the read in progress brought
        // (reads are at most 256 KiB, and each of these events is over 100 bytes).
        #expect(
            (firstBatch ?? 0) <= capacity + (256 << 10) / 100, "queued while the reader stalled: \(firstBatch ?? 0)")
        #expect(received == count, "every event arrives once the reader reads again")
        #expect(outOfOrder == 0)
        #expect(listener.droppedCount == 0)
        await client.disconnect()
    }

    @Test func eventsAndRepliesAreDeliveredInWireOrder() async throws {
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            try connection.answer("stop", after: #"{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 0}}"#)
            connection.waitForClose()
        }
        let client = try await connectedClient(server)
        let first = client.listen()
        let second = client.listen(to: ["STOP"])
        let ignored = client.listen(to: ["RESUME"])
        try await client.execute("stop")
        // The event preceded the reply on the wire, so it is queued by the time the reply is seen.
        #expect(first.drain().map(\.name) == ["STOP"])
        #expect(second.drain().map(\.name) == ["STOP"])
        #expect(ignored.drain().isEmpty)
        await client.disconnect()
    }

    @Test func theDefaultListenerFirstUsedLateHoldsEarlierEventsOnceEach() async throws {
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            try connection.answer("stop", after: #"{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 0}}"#)
            try connection.answer(
                "cont", after: #"{"event": "RESUME", "timestamp": {"seconds": 2, "microseconds": 0}}"#)
            connection.waitForClose()
        }
        let client = try await connectedClient(server) { $0.defaultListenerCapacity = 1 }
        try await client.execute("stop")
        // Used for the first time after STOP: it holds STOP, as a listener registered from the
        // start would.
        #expect(client.events.drain().map(\.name) == ["STOP"])
        try await client.execute("cont")
        #expect(client.events.drain().map(\.name) == ["RESUME"], "each event once, none lost")
        #expect(client.events.droppedCount == 0)
        await client.disconnect()
    }

    @Test func waitForEventCountsEventsFromTheMarkAndTimesOut() async throws {
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            connection.send(#"{"event": "JOB_STATUS_CHANGE", "data": {"id": "old", "status": "concluded"}}"# + "\r\n")
            let message = try connection.expect("job-start")
            connection.send(#"{"event": "JOB_STATUS_CHANGE", "data": {"id": "j0", "status": "running"}}"# + "\r\n")
            connection.send(#"{"event": "JOB_STATUS_CHANGE", "data": {"id": "j0", "status": "concluded"}}"# + "\r\n")
            connection.reply(to: message, with: [:])
            connection.waitForClose()
        }
        let client = try await connectedClient(server)
        // Let the "old" event arrive before the mark.
        #expect(try await client.events.next(timeout: .seconds(5)).data["id"] == "old")
        let mark = client.eventMark()
        try await client.execute("job-start")
        let concluded = try await client.waitForEvent(since: mark, timeout: .seconds(5)) {
            $0.name == "JOB_STATUS_CHANGE" && $0.dataMatches(["status": "concluded"])
        }
        #expect(concluded.data["id"] == "j0")
        await #expect(throws: QMPError.timedOut("no matching event within 0.2 s")) {
            try await client.waitForEvent(since: client.eventMark(), timeout: .milliseconds(200)) { _ in true }
        }
        await client.disconnect()
    }

    @Test func rawMessagesKeepTheCallersIdAndTheObserverSeesBothDirections() async throws {
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            let message = try connection.expect("query-status")
            connection.reply(to: message, with: ["status": "running"])
            let second = try connection.expect("query-name")
            connection.reply(to: second, with: [:])
            connection.waitForClose()
        }
        let seen = Mutex<[(MessageDirection, String)]>([])
        let client = try await connectedClient(server) { configuration in
            configuration.messageObserver = { direction, text in seen.withLock { $0.append((direction, text)) } }
        }
        let reply = try await client.send(["execute": "query-status", "id": ["mine": 1]])
        #expect(reply.serialized() == #"{"return":{"status":"running"},"id":{"mine":1}}"#)
        let bare = try await client.send(["execute": "query-name"])
        #expect(bare.serialized() == #"{"return":{}}"#)
        await client.disconnect()
        let log = seen.withLock { $0 }
        #expect(log.map(\.0) == [.received, .sent, .received, .sent, .received, .sent, .received])
        #expect(log[0].1.hasPrefix(#"{"QMP""#))
        #expect(log[3].1.contains(#""execute":"query-status""#))
    }

    @Test func runstateChangesAreObservable() async throws {
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            connection.waitForClose()
        }
        var configuration = QMPClient.Configuration()
        configuration.handshakeTimeout = .seconds(30)
        let client = QMPClient(configuration: configuration)
        let changes = client.runstateChanges()
        try await client.connect(to: .unix(path: server.path))
        await client.disconnect()
        let seen = try await within(.seconds(10), "five runstate changes") {
            var seen: [Runstate] = []
            for await state in changes {
                seen.append(state)
                if seen.count == 5 { break }
            }
            return seen
        }
        #expect(seen == [.idle, .connecting, .running, .disconnecting, .idle])
    }

    @Test func aClientConnectsOnce() async throws {
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            connection.waitForClose()
        }
        let client = try await connectedClient(server)
        await #expect(throws: QMPError.self) { try await client.connect(to: .unix(path: server.path)) }
        await client.disconnect()
        await #expect(throws: QMPError.invalidState("not connected")) { try await client.execute("query-status") }
    }

    @Test func anObjectThatIsNeitherReplyNorEventIsIgnored() async throws {
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            let message = try connection.expect("query-status")
            connection.send(#"{"hello": "future"}"# + "\r\n")
            connection.reply(to: message, with: ["status": "running"])
            connection.waitForClose()
        }
        let client = try await connectedClient(server)
        #expect(try await client.execute("query-status") == ["status": "running"])
        #expect(client.events.drain().isEmpty, "it is not taken for an event")
        #expect(client.runstate == .running, "the session goes on")
        await client.disconnect()
    }

    @Test func aCloseRightAfterAReplyKeepsTheReplyAndFailsTheNextCommand() async throws {
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            let message = try connection.expect("query-status")
            connection.reply(to: message, with: ["status": "running"])
            connection.close()
        }
        let client = try await connectedClient(server)
        #expect(try await client.execute("query-status") == ["status": "running"])
        let cause = try await within(.seconds(10), "the end of the session") { await client.waitUntilDisconnected() }
        #expect(cause == .disconnected("the server closed the connection"))
        await #expect(throws: QMPError.self) { try await client.execute("query-name") }
    }

    @Test func lineFeedOnlyEndingsAndBatchedMessagesArriveInOrder() async throws {
        let server = try FakeQMPServer { connection in
            try connection.answerWithLineFeedsOnly(
                "query-status", with: ["status": "running"],
                after: #"{"event": "RESUME", "data": {}, "timestamp": {"seconds": 1, "microseconds": 2}}"#)
            connection.waitForClose()
        }
        let client = try await connectedClient(server)
        let listener = client.listen()
        #expect(try await client.execute("query-status") == ["status": "running"])
        #expect(listener.drain().map(\.name) == ["RESUME"], "the event came first on the wire")
        await client.disconnect()
    }

    @Test func extremeNumbersArriveExactly() async throws {
        let numbers = #"{"a": 18446744073709551615, "b": -9223372036854775808, "c": 1e308, "d": -0.0, "e": 1E-400}"#
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            let message = try connection.expect("query-status")
            connection.send(#"{"return": "# + numbers + #", "id": "# + message["id"]!.serialized() + "}\r\n")
            connection.waitForClose()
        }
        let client = try await connectedClient(server)
        let reply = try await client.execute("query-status")
        #expect(
            reply.serialized() == #"{"a":18446744073709551615,"b":-9223372036854775808,"c":1e308,"d":-0.0,"e":1E-400}"#)
        await client.disconnect()
    }

    @Test func oobCommandsAreSentAsExecOOB() async throws {
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            let message = try connection.expect("migrate-pause")
            guard message["exec-oob"] == "migrate-pause", message["execute"] == nil, message["id"] != nil else {
                throw FakeServerError("expected exec-oob with an id, got \(JSONValue.object(message).serialized())")
            }
            connection.reply(to: message, with: [:])
            connection.waitForClose()
        }
        let client = try await connectedClient(server)
        #expect(try await client.execute("migrate-pause", oob: true) == [:])
        await client.disconnect()
    }

    @Test func aMessageOverTheSizeLimitEndsTheSessionClearly() async throws {
        // 64 MiB: far above any real reply (the schema is 207 KB), so a server that never ends a
        // line cannot take the client's memory with it.
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            _ = try connection.expect("query-status")
            connection.send(#"{"return": ""#)
            let chunk = String(repeating: "x", count: 1 << 20)
            for _ in 0...64 { connection.send(chunk) }
            connection.waitForClose()
        }
        let client = try await connectedClient(server)
        await #expect(throws: QMPError.self) { try await client.execute("query-status") }
        let cause = try await within(.seconds(30), "the end of the session") { await client.waitUntilDisconnected() }
        #expect(cause == .protocolViolation("a message exceeded 64 MiB"))
    }
}

extension ClientFaultTests {
    @Test func aGuestAgentsSyncSkipsStaleBytesBeforeTheMarker() async throws {
        let server = try FakeQMPServer { connection in
            let sync = try connection.expect("guest-sync-delimited")
            let id = sync["arguments"]?["id"] ?? .null
            // The answer to the client's 0xFF, the tail of an earlier client's reply (not JSON),
            // then the marker and the answer to the sync, as qemu-ga writes it after a crash.
            connection.send(#"{"error": {"class": "GenericError", "desc": "Invalid JSON syntax"}}"# + "\n")
            connection.send(bytes: Array(#"t-info", "return": {"version": "7.2"}}"#.utf8) + [0xFF])
            connection.send(#"{"return": \#(id.serialized())}"# + "\n")
            let ping = try connection.expect("guest-ping")
            connection.reply(to: ping, with: [:])
            connection.waitForClose()
        }
        let client = try await connectedClient(server) { $0.mode = .guestAgent }
        #expect(client.runstate == .running)
        #expect(try await client.execute("guest-ping") == [:])
        await client.disconnect()
    }

    @Test func nothingOfAReadIsHandledAfterTheViolationThatEndsTheSession() async throws {
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            let message = try connection.expect("query-status")
            // One write: the reply and the event after the garbage must not count.
            connection.send(
                #"{"event": "BEFORE", "timestamp": {"seconds": 1, "microseconds": 0}}"# + "\r\n" + "garbage\r\n"
                    + #"{"event": "AFTER", "timestamp": {"seconds": 1, "microseconds": 0}}"# + "\r\n"
                    + JSONValue.object(["return": ["status": "running"], "id": message["id"] ?? .null]).serialized()
                    + "\r\n")
            connection.waitForClose()
        }
        let client = try await connectedClient(server)
        await #expect(throws: QMPError.self) { try await client.execute("query-status") }
        let cause = try await within(.seconds(10), "the end of the session") { await client.waitUntilDisconnected() }
        #expect(cause?.description.contains("invalid JSON") == true, "\(String(describing: cause))")
        #expect(client.eventHistory.map(\.name) == ["BEFORE"])
    }

    @Test func aFloodOfMalformedMessagesIsAFewWarningLines() async throws {
        let count = 100_000
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            let message = try connection.expect("query-status")
            var chunk = ""
            for index in 1...count {
                chunk += #"{"return": {}, "id": \#(1_000_000 + index)}"# + "\r\n"
                chunk += #"{"event": 7, "data": {}}"# + "\r\n"
                if index % 1000 == 0 {
                    connection.send(chunk)
                    chunk = ""
                }
            }
            connection.reply(to: message, with: ["status": "running"])
            connection.waitForClose()
        }
        let lines = LoggedLines()
        let client = try await connectedClient(server) { configuration in
            configuration.logger = Logger(label: "test") { _ in lines }
        }
        #expect(try await client.execute("query-status") == ["status": "running"])
        await client.disconnect()
        let logged = lines.lines.all
        // The first of each kind in full, then "N more like it" at most once a second.
        #expect(logged.count < 40, "\(logged.count) lines")
        for kind in ["dropped a reply with an unknown id", "ignored an event without a name"] {
            let first = logged.filter { $0 == kind }.count
            let repeats = logged.compactMap { line -> Int? in
                guard line.hasPrefix(kind + ": "), line.hasSuffix(" more like it") else { return nil }
                return Int(line.dropFirst(kind.count + 2).prefix { $0.isNumber })
            }
            #expect(first == 1, "\(kind)")
            #expect(first + repeats.reduce(0, +) == count, "\(kind): every one is counted")
        }
    }

    @Test func largeEventsAreBoundedByBytesInTheHistoryAndTheQueues() async throws {
        let count = 100
        let payload = String(repeating: "x", count: 1 << 20)
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            let message = try connection.expect("query-status")
            for index in 1...count {
                connection.send(#"{"event": "BIG", "data": {"n": \#(index), "blob": "\#(payload)"}}"# + "\r\n")
            }
            connection.reply(to: message, with: ["status": "running"])
            connection.waitForClose()
        }
        let client = try await connectedClient(server)
        let listener = client.listen(byteLimit: 8 << 20)
        #expect(try await client.execute("query-status") == ["status": "running"])
        let history = client.eventHistory
        #expect(history.reduce(0) { $0 + $1.size } <= client.configuration.historyByteLimit)
        #expect(history.count == 31, "32 MiB holds 31 events of a little over 1 MiB; \(history.count) kept")
        #expect(history.last?.data["n"] == .number(JSONNumber(count)), "the newest is kept")
        let queued = listener.drain()
        #expect(queued.count == 7, "8 MiB holds 7 events of a little over 1 MiB")
        #expect(queued.count + listener.droppedCount == count, "what is not kept is counted as dropped")
        await client.disconnect()
    }
}

/// A log handler that keeps the messages.
struct LoggedLines: LogHandler {
    let lines = SharedLines()
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lines.lines.withLock { $0.append("\(event.message)") }
    }
}

final class SharedLines: Sendable {
    let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }
}

/// How many events a flooding fake server has written so far.
final class SentCount: Sendable {
    let value = Atomic<Int>(0)
}
