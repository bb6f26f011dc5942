import Foundation
import QMP
import QMPTestSupport
import Synchronization
import Testing

/// The client against a real QEMU (`-M none`) and a real qemu-ga.
@Suite("Client against real QEMU", .timeLimit(.minutes(2)))
struct QEMUIntegrationTests {
    func connect(_ qemu: QEMUInstance) async throws -> QMPClient {
        let client = QMPClient(configuration: .patient)
        try await client.connect(to: .unix(path: qemu.socketPath))
        return client
    }

    @Test func greetingCarriesTheInstalledVersion() async throws {
        let qemu = try QEMUInstance()
        let client = try await connect(qemu)
        let installed = try QEMUInstance.installedVersion()
        #expect(client.greeting?.version == installed)
        #expect(client.greeting?.capabilities.contains("oob") == true)
        let version = try await client.execute("query-version")
        #expect(version["qemu"]?["major"]?.intValue == client.greeting?.major)
        await client.disconnect()
    }

    @Test func manyCommandsInFlightGetTheirOwnReplies() async throws {
        let qemu = try QEMUInstance()
        let client = try await connect(qemu)
        let results = try await withThrowingTaskGroup(of: (Int, JSONValue).self) { group in
            for index in 0..<64 {
                group.addTask {
                    let command = index.isMultiple(of: 2) ? "query-status" : "query-version"
                    return (index, try await client.execute(command))
                }
            }
            return try await group.reduce(into: [Int: JSONValue]()) { $0[$1.0] = $1.1 }
        }
        #expect(results.count == 64)
        for (index, result) in results {
            if index.isMultiple(of: 2) {
                #expect(result["status"] == "running")
            } else {
                #expect(result["qemu"] != nil)
            }
        }
        await client.disconnect()
    }

    @Test func commandErrorsCarryQEMUsClassAndDescription() async throws {
        let qemu = try QEMUInstance()
        let client = try await connect(qemu)
        await #expect(
            throws: QMPError.commandFailed(
                errorClass: "CommandNotFound", description: "The command no-such-command has not been found")
        ) {
            try await client.execute("no-such-command")
        }
        await client.disconnect()
    }

    @Test func stopAndResumeFromAnotherMonitorReachTwoListeners() async throws {
        let qemu = try QEMUInstance()
        let client = try await connect(qemu)
        let everything = client.listen()
        let onlyResume = client.listen(to: ["RESUME"])
        try await qemu.controlExecute("stop")
        try await qemu.controlExecute("cont")
        let first = try await everything.next(timeout: .seconds(10))
        let second = try await everything.next(timeout: .seconds(10))
        #expect([first.name, second.name] == ["STOP", "RESUME"])
        #expect(first.timestamp.map { $0.seconds > 0 } == true)
        let resume = try await onlyResume.next(timeout: .seconds(10))
        #expect(resume.name == "RESUME")
        #expect(resume.sequence == second.sequence, "both listeners got a copy of the same event")
        await client.disconnect()
    }

    @Test func theEventOfACommandArrivesBeforeItsReply() async throws {
        let qemu = try QEMUInstance()
        let client = try await connect(qemu)
        let listener = client.listen(to: ["STOP"])
        let mark = client.eventMark()
        try await client.execute("stop")
        // QEMU emits STOP before the reply to `stop`; the client keeps that order.
        #expect(listener.drain().map(\.name) == ["STOP"])
        let stop = try await client.waitForEvent(since: mark, timeout: .seconds(5)) { $0.name == "STOP" }
        #expect(stop.name == "STOP")
        #expect(try await client.execute("query-status")["status"] == "paused")
        await client.disconnect()
    }

    @Test func passedFileIsUsableAsAnFdset() async throws {
        let qemu = try QEMUInstance()
        let client = try await connect(qemu)
        let image = qemu.directory.file("disk.raw")
        #expect(FileManager.default.createFile(atPath: image, contents: Data(count: 1 << 20)))
        let fd = open(image, O_RDWR)
        #expect(fd >= 0)
        defer { close(fd) }
        let added = try await client.execute("add-fd", arguments: ["opaque": "test"], passing: [fd])
        let fdset = try #require(added["fdset-id"]?.intValue)
        #expect(added["fd"]?.intValue != nil)
        try await client.execute(
            "blockdev-add",
            arguments: ["driver": "file", "node-name": "disk0", "filename": .string("/dev/fdset/\(fdset)")])
        let nodes = try await client.execute("query-named-block-nodes")
        #expect(nodes.arrayValue?.contains { $0["node-name"] == "disk0" } == true)
        // The file is also available under a name with getfd, then closed again.
        try await client.execute("getfd", arguments: ["fdname": "spare"], passing: [fd])
        try await client.execute("closefd", arguments: ["fdname": "spare"])
        await client.disconnect()
    }

    @Test func killingQEMUFailsThePendingCommandAndReportsTheCause() async throws {
        let qemu = try QEMUInstance()
        let client = try await connect(qemu)
        // Freeze QEMU so the command stays pending, then kill it.
        kill(qemu.pid, SIGSTOP)
        let pending = Task { () async throws(QMPError) -> JSONValue in try await client.execute("query-status") }
        try await Task.sleep(for: .milliseconds(200))
        qemu.kill()
        await #expect(throws: QMPError.disconnected("the server closed the connection")) { try await pending.value }
        let cause = try await within(.seconds(10), "the end of the session") { await client.waitUntilDisconnected() }
        #expect(cause == .disconnected("the server closed the connection"))
        #expect(client.runstate == .idle)
    }

    @Test func aReplyThatNeverComesTimesOutOrIsCancelledAndTheSessionGoesOn() async throws {
        let qemu = try QEMUInstance()
        let messages = Mutex<[(MessageDirection, String)]>([])
        var configuration = QMPClient.Configuration.patient
        configuration.messageObserver = { direction, text in messages.withLock { $0.append((direction, text)) } }
        let client = QMPClient(configuration: configuration)
        try await client.connect(to: .unix(path: qemu.socketPath))
        // As if stopped in a debugger: QEMU reads nothing and answers nothing.
        kill(qemu.pid, SIGSTOP)
        await #expect(throws: QMPError.timedOut("no reply to query-status within 0.5 s")) {
            try await within(.seconds(10), "the timeout") {
                try await client.execute("query-status", timeout: .milliseconds(500))
            }
        }
        let waiting = Task { () async throws(QMPError) -> JSONValue in try await client.execute("query-version") }
        try await within(.seconds(10), "query-version written") {
            while !messages.withLock({ $0.contains { $0.0 == .sent && $0.1.contains("query-version") } }) {
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        waiting.cancel()
        await #expect(throws: QMPError.cancelled("the reply to query-version was abandoned")) {
            try await within(.seconds(10), "the cancellation") { try await waiting.value }
        }
        // A task cancelled before it sends sends nothing.
        let sentBefore = messages.withLock { $0.filter { $0.0 == .sent }.count }
        let cancelledEarly = Task { () async throws(QMPError) -> JSONValue in
            withUnsafeCurrentTask { $0?.cancel() }
            return try await client.execute("query-name")
        }
        await #expect(throws: QMPError.cancelled("query-name was not sent: interrupted")) {
            try await cancelledEarly.value
        }
        #expect(messages.withLock { $0.filter { $0.0 == .sent }.count } == sentBefore)

        // The late replies come and are dropped; the session goes on with the right replies.
        kill(qemu.pid, SIGCONT)
        let status = try await within(.seconds(10), "query-status after SIGCONT") {
            try await client.execute("query-status")
        }
        #expect(status["status"] == "running")
        let received = messages.withLock { $0.filter { $0.0 == .received }.map(\.1) }
        #expect(received.suffix(3).map { $0.contains("\"status\"") } == [true, false, true], "\(received.suffix(3))")
        #expect(client.runstate == .running)
        await client.disconnect()
    }

    @Test func acceptModeTakesTheConnectionOfAQEMUWeStarted() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("accept.sock")
        let listener = try QMPSocketListener(path: path)
        defer { listener.close() }
        let qemu = Process()
        qemu.executableURL = URL(fileURLWithPath: QEMUInstance.binary)
        // Without server=on, QEMU connects to the socket as a client.
        qemu.arguments = ["-M", "none", "-nodefaults", "-display", "none", "-qmp", "unix:\(path)"]
        try qemu.run()
        defer {
            qemu.terminate()
            qemu.waitUntilExit()
        }
        let client = QMPClient(configuration: .patient)
        try await client.accept(from: listener, timeout: .seconds(20))
        #expect(try await client.execute("query-status")["status"] == "running")
        try await client.execute("quit")
        let cause = try await within(.seconds(10), "the end of the session") { await client.waitUntilDisconnected() }
        #expect(cause == .disconnected("the server closed the connection"))
    }

    @Test func scopedListenersAndAsyncIteration() async throws {
        let qemu = try QEMUInstance()
        let client = try await connect(qemu)
        let names = try await client.withListener(to: ["STOP", "RESUME"]) { listener in
            try await client.execute("stop")
            try await client.execute("cont")
            return try await within(.seconds(10), "STOP and RESUME") {
                var names: [String] = []
                for await event in listener {
                    names.append(event.name)
                    if names.count == 2 { break }
                }
                return names
            }
        }
        #expect(names == ["STOP", "RESUME"])
        await client.disconnect()
        // After the connection ends, iterating the default listener drains what is left and stops.
        let remaining = try await within(.seconds(10), "the default listener to end") {
            var remaining = 0
            for await _ in client.events { remaining += 1 }
            return remaining
        }
        #expect(remaining == 2)
    }

    @Test func outOfBandCommandsRunOnRealQEMU() async throws {
        let qemu = try QEMUInstance()
        let client = try await connect(qemu)
        // query-yank allows out-of-band execution in QEMU 7.2; a command that does not is refused.
        #expect(try await client.execute("query-yank", oob: true).arrayValue != nil)
        await #expect(throws: QMPError.self) { try await client.execute("query-status", oob: true) }
        await client.disconnect()
    }

    @Test func fileDescriptorsNeedAUnixSocketAndTheSessionGoesOn() async throws {
        let port = try QEMUInstance.freeTCPPort()
        let qemu = try QEMUInstance(extraArguments: ["-qmp", "tcp:127.0.0.1:\(port),server=on,wait=off"])
        let client = QMPClient(configuration: .patient)
        try await client.connect(to: .tcp(host: "127.0.0.1", port: port))
        let fd = open("/dev/null", O_RDONLY)
        defer { close(fd) }
        await #expect(
            throws: QMPError.invalidArgument("file descriptors can only be passed over a UNIX socket, not TCP")
        ) {
            try await client.execute("getfd", arguments: ["fdname": "null"], passing: [fd])
        }
        #expect(
            try await client.execute("query-status")["status"] == "running", "nothing was sent; the session goes on")
        await client.disconnect()
        withExtendedLifetime(qemu) {}
    }

    @Test func guestAgentHandshakePingAndInfo() async throws {
        let agent = try GuestAgentInstance()
        var configuration = QMPClient.Configuration.patient
        configuration.mode = .guestAgent
        let client = QMPClient(configuration: configuration)
        try await client.connect(to: .unix(path: agent.socketPath))
        #expect(client.runstate == .running)
        #expect(try await client.execute("guest-ping") == [:])
        let info = try await client.execute("guest-info")
        #expect(info["version"]?.stringValue == (try QEMUInstance.installedVersion()))
        let commands = info["supported_commands"]?.arrayValue ?? []
        #expect(commands.contains { $0["name"] == "guest-ping" })
        #expect(commands.contains { $0["name"] == "guest-shutdown" && $0["enabled"] == false }, "blocked in tests")
        await client.disconnect()
    }
}
