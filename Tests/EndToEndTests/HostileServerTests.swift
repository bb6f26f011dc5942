import Foundation
import QMP
import QMPTestSupport
import QMPTestTraits
import Testing

/// The built `qmp-shell -c query-status` against a hostile server: each fault ends by itself,
/// without a crash, with the documented exit status, one clear message, and nothing lost where the
/// protocol allows recovery. Docs/ROBUSTNESS.md lists the cases.
@Suite("qmp-shell against a hostile server", .timeLimit(.minutes(2)), .checksFakeServerScripts)
struct HostileServerTests {
    struct Fault: CustomTestStringConvertible, Sendable {
        let name: String
        let script: @Sendable (FakeQMPConnection) throws -> Void
        /// Extra shell arguments before the address (besides `-c query-status`).
        var commands = ["query-status"]
        let status: Int32
        /// Text the one diagnostic line must contain (`nil`: no diagnostic at all).
        let message: String?
        /// What standard output must hold, line by line (prefix match for long lines).
        var output: [String] = []

        var testDescription: String { name }
    }

    static let statusReply = #"{"return":{"status":"running","singlestep":false,"running":true}}"#

    /// Replies to query-status as QEMU does.
    static func answerStatus(_ connection: FakeQMPConnection, _ message: JSONObject) {
        connection.reply(to: message, with: ["status": "running", "singlestep": false, "running": true])
    }

    static let faults: [Fault] = [
        Fault(
            name: "silence", script: { $0.waitForClose(timeout: .seconds(30)) },
            status: 3, message: "handshake failed: the server sent no greeting within 5 s"),
        Fault(
            name: "garbage greeting",
            script: {
                $0.send("hello there\r\n"); $0.waitForClose()
            },
            status: 3, message: "handshake failed: the server sent invalid JSON"),
        Fault(
            name: "non-object greeting",
            script: {
                $0.send("[1, 2, 3]\r\n"); $0.waitForClose()
            },
            status: 3, message: "where a JSON object was expected"),
        Fault(
            name: "wrongly shaped greeting",
            script: {
                $0.send(#"{"QMP": {"capabilities": []}}"# + "\r\n"); $0.waitForClose()
            },
            status: 3, message: "the greeting has no version.qemu major/minor/micro"),
        Fault(
            name: "refused negotiation",
            script: { connection in
                connection.send(FakeQMPConnection.greeting + "\r\n")
                connection.replyError(
                    to: try connection.expect("qmp_capabilities"), description: "Capability 'oob' not available")
                connection.waitForClose()
            }, status: 3, message: "qmp_capabilities was refused: GenericError: Capability 'oob' not available"),
        Fault(
            name: "cut after the greeting",
            script: { connection in
                connection.send(FakeQMPConnection.greeting + "\r\n")
                connection.close()
            }, status: 3, message: "handshake failed: the server closed the connection"),
        Fault(
            name: "cut mid-reply",
            script: { connection in
                try connection.handshake()
                _ = try connection.expect("query-status")
                connection.send(#"{"return": {"status": "runn"#)
                connection.close()
            }, status: 3, message: "the server closed the connection in the middle of a message"),
        Fault(
            name: "id-less error",
            script: { connection in
                try connection.handshake()
                _ = try connection.expect("query-status")
                connection.send(
                    #"{"error": {"class": "GenericError", "desc": "JSON parse error, stray '\\'"}}"# + "\r\n")
                connection.waitForClose()
            }, status: 3, message: "the server reported an error without an id"),
        Fault(
            name: "reply to an unknown id before the right one",
            script: { connection in
                try connection.handshake()
                let message = try connection.expect("query-status")
                connection.send(#"{"return": {"status": "wrong"}, "id": 999999}"# + "\r\n")
                answerStatus(connection, message)
                connection.waitForClose()
            }, status: 0, message: "dropped a reply with an unknown id", output: [statusReply]),
        Fault(
            name: "16 MiB reply",
            script: { connection in
                try connection.handshake()
                let message = try connection.expect("query-status")
                connection.reply(to: message, with: ["blob": .string(String(repeating: "a", count: 16 << 20))])
                connection.waitForClose()
            }, status: 0, message: nil, output: [#"{"return":{"blob":"aaaa"#]),
        Fault(
            name: "200,000-deep nesting",
            script: { connection in
                try connection.handshake()
                _ = try connection.expect("query-status")
                connection.send(#"{"return": "# + String(repeating: "[", count: 200_000) + "\r\n")
                connection.waitForClose()
            }, status: 3, message: "nesting deeper than 1024 levels"),
        Fault(
            name: "invalid UTF-8",
            script: { connection in
                try connection.handshake()
                _ = try connection.expect("query-status")
                connection.send(
                    bytes: Array(#"{"return": {"status": "r"#.utf8) + [0xFE, 0xFF, 0xC0] + Array("\"}}\r\n".utf8))
                connection.waitForClose()
            }, status: 3, message: "invalid UTF-8 in string"),
        Fault(
            name: "stray 0xFF",
            script: { connection in
                try connection.handshake()
                let message = try connection.expect("query-status")
                connection.send(bytes: [0xFF, 0xFF, 0x0D, 0x0A, 0xFF])
                answerStatus(connection, message)
                connection.waitForClose()
            }, status: 0, message: nil, output: [statusReply]),
        Fault(
            name: "extreme numbers",
            script: { connection in
                try connection.handshake()
                let message = try connection.expect("query-status")
                connection.send(
                    #"{"return": {"a": 18446744073709551615, "b": -9223372036854775808, "c": 1e308, "d": -0.0, "e": 1E-400}, "id": "#
                        + message["id"]!.serialized() + "}\r\n")
                connection.waitForClose()
            }, status: 0, message: nil,
            output: [#"{"return":{"a":18446744073709551615,"b":-9223372036854775808,"c":1e308,"d":-0.0,"e":1E-400}}"#]),
        Fault(
            name: "non-JSON mid-stream",
            script: { connection in
                try connection.handshake()
                answerStatus(connection, try connection.expect("query-status"))
                _ = try connection.expect("query-name")
                connection.send("<html>oops</html>\r\n")
                connection.waitForClose()
            }, commands: ["query-status", "query-name"], status: 3, message: "invalid JSON", output: [statusReply]),
        Fault(
            name: "non-object mid-stream",
            script: { connection in
                try connection.handshake()
                _ = try connection.expect("query-status")
                connection.send("42\r\n")
                connection.waitForClose()
            }, status: 3, message: "where a JSON object was expected"),
        Fault(
            name: "events without data and with -1 timestamps",
            script: { connection in
                try connection.handshake()
                let message = try connection.expect("query-status")
                connection.send(#"{"event": "POWERDOWN"}"# + "\r\n")
                connection.send(#"{"event": "STOP", "timestamp": {"seconds": -1, "microseconds": -1}}"# + "\r\n")
                answerStatus(connection, message)
                connection.waitForClose()
            }, status: 0, message: nil,
            output: [
                #"{"event":"POWERDOWN"}"#, #"{"event":"STOP","timestamp":{"seconds":-1,"microseconds":-1}}"#,
                statusReply,
            ]),
        Fault(
            name: "byte-by-byte delivery",
            script: { connection in
                for byte in (FakeQMPConnection.greeting + "\r\n").utf8 { connection.send(bytes: [byte]) }
                connection.reply(to: try connection.expect("qmp_capabilities"), with: [:])
                let message = try connection.expect("query-status")
                let reply =
                    #"{"return": {"status": "running", "singlestep": false, "running": true}, "id": "#
                    + message["id"]!.serialized() + "}\r\n"
                for byte in reply.utf8 { connection.send(bytes: [byte]) }
                connection.waitForClose()
            }, status: 0, message: nil, output: [statusReply]),
        Fault(
            name: "LF-only endings with batched messages",
            script: { connection in
                try connection.answerWithLineFeedsOnly(
                    "query-status", with: ["status": "running", "singlestep": false, "running": true],
                    after: #"{"event": "RESUME", "data": {}, "timestamp": {"seconds": 1, "microseconds": 2}}"#)
                connection.waitForClose()
            }, status: 0, message: nil, output: [#"{"event":"RESUME""#, statusReply]),
        Fault(
            name: "close right after the reply",
            script: { connection in
                try connection.handshake()
                answerStatus(connection, try connection.expect("query-status"))
                connection.close()
            }, commands: ["query-status", "query-name"], status: 3, message: "the server closed the connection",
            output: [statusReply]),
        Fault(
            name: "an object that is neither reply nor event",
            script: { connection in
                try connection.handshake()
                let message = try connection.expect("query-status")
                connection.send(#"{"hello": "future"}"# + "\r\n")
                answerStatus(connection, message)
                connection.waitForClose()
            }, status: 0, message: "ignored a message that is neither a reply nor an event", output: [statusReply]),
    ]

    @Test(arguments: faults)
    func fault(_ fault: Fault) throws {
        let server = try FakeQMPServer(script: fault.script)
        let arguments = fault.commands.flatMap { ["-c", $0] } + [server.path]
        // The slowest case, the 16 MiB reply, takes about 3 s in a debug build on a quiet machine
        // and up to 20 s with other builds on the two cores.
        let result = try ShellBinary.run(arguments, timeout: .seconds(60))
        #expect(!result.crashed, "crashed: \(result.standardError)")
        #expect(result.status != -1, "did not end by itself")
        #expect(result.status == fault.status, "\(result.standardError)")
        let diagnostics = result.standardError.split(separator: "\n")
        if let message = fault.message {
            #expect(diagnostics.count == 1, "one clear message: \(result.standardError)")
            #expect(result.standardError.contains(message), "\(result.standardError)")
            #expect(!result.standardError.contains("Fatal error"), "no stack trace")
        } else {
            #expect(diagnostics.isEmpty, "\(result.standardError)")
        }
        let lines = result.lines
        #expect(lines.count == fault.output.count, "\(result.standardOutput.prefix(500))")
        for (line, expected) in zip(lines, fault.output) {
            #expect(line.hasPrefix(expected), "\(line.prefix(300)) does not start with \(expected)")
        }
    }

    @Test func aSixteenMebibyteReplyIsPrintedWhole() throws {
        let size = 16 << 20
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            let message = try connection.expect("query-status")
            connection.reply(to: message, with: ["blob": .string(String(repeating: "a", count: size))])
            connection.waitForClose()
        }
        // As in the battery above: up to 20 s on a loaded machine.
        let result = try ShellBinary.run(["-c", "query-status", server.path], timeout: .seconds(60))
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.lines.count == 1)
        let reply = try JSONParser.parse(try #require(result.lines.first))
        let blob = try #require(reply["return"]?["blob"]?.stringValue)
        #expect(blob.utf8.count == size && blob.utf8.allSatisfy { $0 == UInt8(ascii: "a") }, "every byte, in one line")
    }

    @Test func floodOf200000EventsBeforeTheReplyLosesNothingSilently() throws {
        let count = 200_000
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            let message = try connection.expect("query-status")
            let event =
                #"{"event": "BLOCK_JOB_READY", "data": {"device": "j0", "len": 1, "offset": 1, "speed": 0, "type": "mirror"}, "timestamp": {"seconds": 1, "microseconds": 1}}"#
                + "\r\n"
            let chunk = String(repeating: event, count: 1000)
            for _ in 0..<(count / 1000) { connection.send(chunk) }
            HostileServerTests.answerStatus(connection, message)
            connection.waitForClose()
        }
        // About 5 s on a quiet machine and 25 s with five builds sharing the two cores: 60 s.
        let result = try ShellBinary.run(["-c", "query-status", server.path], timeout: .seconds(60))
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.lines.last == Self.statusReply, "the reply comes after the events that preceded it")
        let shown = result.lines.count - 1
        // "qmp-shell: N events were dropped: ..."
        let dropped = result.standardError.split(separator: "\n").compactMap { line -> Int? in
            guard line.contains("events were dropped") else { return nil }
            return Int(String(line.split(separator: " ")[1]))
        }.reduce(0, +)
        #expect(shown + dropped == count, "every event is shown or counted as dropped")
    }

    @Test(arguments: ["no such socket", "not a socket", "refused TCP port"])
    func clientSideFailures(_ kind: String) throws {
        let directory = try TemporaryDirectory()
        let address: String
        let expected: String
        switch kind {
        case "no such socket":
            address = directory.file("missing.sock")
            expected = "No such file or directory"
        case "not a socket":
            address = directory.file("plain-file")
            #expect(FileManager.default.createFile(atPath: address, contents: Data("x".utf8)))
            expected = "not a socket"
        default:
            address = "127.0.0.1:1"
            expected = "Connection refused"
        }
        let result = try ShellBinary.run(["-c", "query-status", address])
        #expect(result.status == 3)
        #expect(!result.crashed)
        #expect(result.standardError == "qmp-shell: could not connect to \(address): \(expected)\n")
    }
}
