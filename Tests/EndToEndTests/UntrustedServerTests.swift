import Foundation
import QMP
import QMPTestSupport
import QMPTestTraits
import Synchronization
import Testing

/// The built shell against a server that lies in what it describes: a schema that does not hold
/// together, text meant for the terminal, floods of faults. Docs/ROBUSTNESS.md ("Trusting the
/// server") lists the cases.
@Suite("qmp-shell does not trust the server", .timeLimit(.minutes(2)), .checksFakeServerScripts)
struct UntrustedServerTests {
    /// A fake QEMU that serves `schema`, then answers every command with its own arguments.
    static func echoServer(schema: JSONValue) throws -> FakeQMPServer {
        try FakeQMPServer { connection in
            try connection.handshake()
            try connection.serveSchema(schema)
            while let message = connection.readMessage(timeout: .seconds(20)) {
                connection.reply(to: message, with: message["arguments"] ?? [:])
            }
        }
    }

    /// A command `x` whose optional argument `a` is of type `1`, and the entries of `types`.
    static func schema(with types: String) throws -> JSONValue {
        try JSONParser.parse(
            #"[{"name": "x", "meta-type": "command", "arg-type": "0", "ret-type": "0"}, "#
                + #"{"name": "0", "meta-type": "object", "members": [{"name": "a", "type": "1", "default": null}]}, "#
                + #"{"name": "str", "meta-type": "builtin", "json-type": "string"}, "# + types + "]")
    }

    @Test(arguments: [
        #"{"name": "1", "meta-type": "array", "element-type": "1"}"#,
        #"{"name": "1", "meta-type": "alternate", "members": [{"type": "1"}, {"type": "str"}]}"#,
        #"{"name": "1", "meta-type": "object", "members": [{"name": "next", "type": "1"}]}"#,
    ])
    func aSchemaWithAnEndlessCycleIsRefusedWithOneWarningAndNotCached(types: String) throws {
        let server = try Self.echoServer(schema: try Self.schema(with: types))
        let cache = try TemporaryDirectory(prefix: "qmp-cache")
        let result = try ShellBinary.run(
            ["--keep-going", "-c", ".help x", "-c", "x a=[]", "-c", "x a=1", server.path],
            environment: ["XDG_CACHE_HOME": cache.path])
        #expect(!result.crashed, "crashed: \(result.standardError)")
        let diagnostics = result.standardError.split(separator: "\n")
        let warnings = diagnostics.filter { $0.contains("the server's schema cannot be used") }
        #expect(warnings.count == 1, "\(result.standardError)")
        #expect(warnings.first?.contains("arguments are sent unchecked") == true)
        // Without a schema, .help knows only directives; the lines go as typed.
        #expect(diagnostics.contains { $0.hasPrefix("-c:1: .help: no command") }, "\(result.standardError)")
        #expect(result.lines == [#"{"return":{"a":[]}}"#, #"{"return":{"a":1}}"#])
        let files = (try? FileManager.default.contentsOfDirectory(atPath: cache.file("qmp-shell"))) ?? []
        #expect(files.isEmpty, "never cached: \(files)")
    }
}

extension UntrustedServerTests {
    /// Control characters a hostile server (or, with -g, the guest) may put in its text: clear the
    /// screen, set the window title, an 8-bit CSI, a bell, and a line break.
    static let hostile = "\u{1B}[2J\u{1B}]0;owned\u{07}\u{9B}31m\nsecond line"
    static let hostileEscaped = #"\u001b[2J\u001b]0;owned\u0007\u009b31m\nsecond line"#

    /// No byte of a terminal control sequence: ESC, BEL, CSI (as UTF-8), a carriage return.
    static func hasRawControls(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" || $0 == "\u{9B}" || $0 == "\r" }
    }

    @Test func anErrorsClassAndDescriptionAreOneDiagnosticLineWithControlsEscaped() throws {
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            let message = try connection.expect("query-status")
            connection.replyError(to: message, errorClass: "Generic\u{1B}[5mError", description: Self.hostile)
            connection.waitForClose()
        }
        let result = try ShellBinary.run(["-c", "query-status", server.path])
        #expect(result.status == 1)
        #expect(result.standardError == "-c:1: Generic\\u001b[5mError: \(Self.hostileEscaped)\n")
        // The error reply on standard output is JSON: escaped by the encoder.
        #expect(result.lines.count == 1 && !Self.hasRawControls(result.standardOutput), "\(result.standardOutput)")
    }

    @Test func garbageThatEndsTheSessionIsQuotedWithControlsEscaped() throws {
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            _ = try connection.expect("query-status")
            connection.send("\u{1B}[2J\u{1B}]0;owned\u{07}\u{9B}31m not json\r\n")
            connection.waitForClose()
        }
        let result = try ShellBinary.run(["-c", "query-status", server.path])
        #expect(result.status == 3)
        let lines = result.standardError.split(separator: "\n")
        #expect(lines.count == 1, "\(result.standardError)")
        #expect(
            result.standardError.contains(#"'\u001b[2J\u001b]0;owned\u0007\u009b31m not json'"#),
            "\(result.standardError)")
        #expect(!Self.hasRawControls(result.standardError))
    }

    @Test func watchedEventNamesOnATerminalShowControlsEscaped() throws {
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            connection.send(
                JSONValue.object([
                    "event": .string("EVIL" + Self.hostile), "data": ["note": .string(Self.hostile)],
                    "timestamp": ["seconds": 1, "microseconds": 0],
                ]).serialized() + "\r\n")
            connection.waitForClose()
        }
        let terminal = try PseudoTerminalSession(
            executable: ShellBinary.path, arguments: ["--watch", "--count", "1", server.path])
        defer { terminal.terminate() }
        #expect(try terminal.waitForExit(timeout: .seconds(30)) == 0)
        let transcript = terminal.transcript
        #expect(transcript.contains("EVIL" + Self.hostileEscaped), "\(transcript.debugDescription)")
        #expect(
            !transcript.contains("\u{1B}]0;owned") && !transcript.contains("\u{1B}[2J"),
            "\(transcript.debugDescription)")
        #expect(!transcript.contains("\u{9B}"))
    }
}

extension UntrustedServerTests {
    /// 1,200 events of 1 MiB (1.2 GiB) before a reply: the history and every queue are bounded by
    /// bytes as well as by count, so the shell's peak memory stays far below what was sent.
    @Test func hugeEventsKeepTheShellsMemoryBounded() throws {
        let count = 1200
        let peak = Mutex<Int?>(nil)
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            let first = try connection.expect("query-status")
            let blob = String(repeating: "x", count: 1 << 20)
            for index in 1...count {
                connection.send(
                    #"{"event": "BIG", "data": {"n": \#(index), "blob": "\#(blob)"}, "timestamp": {"seconds": 1, "microseconds": 0}}"#
                        + "\r\n")
            }
            Self.answerStatus(connection, first)
            // The shell has read everything by the time it sends its second line.
            let second = try connection.expect("query-status")
            if let pid = connection.peerProcessID { peak.withLock { $0 = try? Self.peakResidentMebibytes(of: pid) } }
            Self.answerStatus(connection, second)
            connection.waitForClose()
        }
        let result = try ShellBinary.run(
            ["-c", "query-status", "-c", "query-status", server.path], timeout: .seconds(100), discardingOutput: true)
        #expect(result.status == 0, "\(result.standardError)")
        let measured = try #require(peak.withLock { $0 })
        // Before the byte bounds: over 1 GiB.
        #expect(measured < 256, "peak memory \(measured) MiB")
    }

    static func answerStatus(_ connection: FakeQMPConnection, _ message: JSONObject) {
        connection.reply(to: message, with: ["status": "running", "singlestep": false, "running": true])
    }

    /// VmHWM from /proc: the most memory the process has held, in MiB.
    static func peakResidentMebibytes(of pid: pid_t) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Int(line.split(whereSeparator: \.isWhitespace)[1])
        else { throw FakeServerError("no VmHWM for \(pid)") }
        return kilobytes / 1024
    }
}

extension UntrustedServerTests {
    /// 100,000 replies with unknown ids and 100,000 events without a name: a warning of each kind,
    /// then counts, not 200,000 lines.
    @Test func aFloodOfMalformedMessagesIsSummarisedNotPrintedLineByLine() throws {
        let count = 100_000
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            let message = try connection.expect("query-status")
            var chunk = ""
            for index in 1...count {
                chunk += #"{"return": {}, "id": \#(1_000_000 + index)}"# + "\r\n" + #"{"event": null}"# + "\r\n"
                if index % 1000 == 0 {
                    connection.send(chunk)
                    chunk = ""
                }
            }
            Self.answerStatus(connection, message)
            connection.waitForClose()
        }
        let result = try ShellBinary.run(["-c", "query-status", server.path], timeout: .seconds(60))
        #expect(result.status == 0, "\(result.standardError.suffix(500))")
        #expect(result.lines == [#"{"return":{"status":"running","singlestep":false,"running":true}}"#])
        let lines = result.standardError.split(separator: "\n").map(String.init)
        #expect(lines.count < 40, "\(lines.count) lines: \(lines.prefix(5))")
        for kind in ["dropped a reply with an unknown id", "ignored an event without a name"] {
            let prefix = "qmp-shell: warning: " + kind
            #expect(lines.filter { $0.hasPrefix(prefix) && !$0.hasSuffix("more like it") }.count == 1, "\(kind)")
            let repeats = lines.compactMap { line -> Int? in
                guard line.hasPrefix(prefix + ": "), line.hasSuffix(" more like it") else { return nil }
                return Int(line.dropFirst(prefix.count + 2).prefix { $0.isNumber })
            }
            #expect(1 + repeats.reduce(0, +) == count, "\(kind): all \(count) are counted: \(lines)")
        }
    }
}

extension UntrustedServerTests {
    /// The same flood at the prompt: a few lines on screen, and the count of the rest within a
    /// second or so, without waiting for the session to end; the prompt still answers.
    @Test func aFloodOfMalformedMessagesAtThePromptIsAFewLinesThatCountTheRest() throws {
        let count = 100_000
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            var chunk = ""
            for index in 1...count {
                chunk += #"{"return": {}, "id": \#(1_000_000 + index)}"# + "\r\n"
                if index % 1000 == 0 {
                    connection.send(chunk)
                    chunk = ""
                }
            }
            while let message = connection.readMessage(timeout: .seconds(30)) {
                Self.answerStatus(connection, message)
            }
        }
        let home = try TemporaryDirectory(prefix: "qmp-home")
        let terminal = try PseudoTerminalSession(
            executable: ShellBinary.path, arguments: [server.path], environment: ["HOME": home.path, "NO_COLOR": "1"])
        defer { terminal.terminate() }
        try terminal.waitForText("(QEMU) ", timeout: .seconds(30))
        try terminal.waitForOutput(containing: "more like it", timeout: .seconds(60))
        terminal.send("query-status\r")
        try terminal.waitForOutput(containing: #"{"return":{"status":"running""#, timeout: .seconds(30))
        let warnings = terminal.transcript.components(separatedBy: "dropped a reply with an unknown id").count - 1
        #expect((2..<40).contains(warnings), "\(warnings) warning lines")
        terminal.send("\u{4}")
        #expect(try terminal.waitForExit(timeout: .seconds(30)) == 0)
    }
}
