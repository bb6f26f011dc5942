import Foundation
import QMP
import QMPTestSupport
import QMPTestTraits
import Testing

/// `qmp-shell -c`, `-f` and piped standard input against real QEMU: standard output carries only
/// JSON, diagnostics name the place, exit codes follow the contract.
@Suite("Non-interactive mode against real QEMU", .timeLimit(.minutes(2)), .checksFakeServerScripts)
struct NonInteractiveTests {
    func json(_ line: String) throws -> JSONValue { try JSONParser.parse(line) }

    @Test func commandLinesPrintOneJSONReplyEachAndExitZero() throws {
        let qemu = try QEMUInstance()
        let result = try ShellBinary.run(["-c", "query-status", "-c", "query-name", qemu.socketPath])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.lines.count == 2)
        #expect(try json(result.lines[0])["return"]?["status"] == "running")
        #expect(try json(result.lines[1]) == ["return": [:]])
        #expect(!result.standardOutput.contains(#""id""#), "the shell's own id is not shown")
        #expect(result.standardError.isEmpty)
    }

    @Test func aFailingLineStopsTheRunWithItsPlaceAndExitOne() throws {
        let qemu = try QEMUInstance()
        let directory = try TemporaryDirectory()
        let script = directory.file("setup.qmp")
        try """
        # a comment, then a blank line

        query-status
        no-such-command
        query-name
        """.write(toFile: script, atomically: true, encoding: .utf8)
        let result = try ShellBinary.run(["-f", script, qemu.socketPath])
        #expect(result.status == 1)
        #expect(result.lines.count == 2, "the line after the failure did not run: \(result.standardOutput)")
        #expect(try json(result.lines[1])["error"]?["class"] == "CommandNotFound")
        #expect(
            result.standardError == "\(script):4: CommandNotFound: The command no-such-command has not been found\n")
    }

    @Test func keepGoingRunsEveryLineAndStillExitsOne() throws {
        let qemu = try QEMUInstance()
        // --no-schema-check sends the unknown argument, for QEMU to refuse.
        let result = try ShellBinary.run(
            [
                "--keep-going", "--no-schema-check", "-c", "no-such-command", "-c", "query-status flag=", "-c",
                "query-name",
                qemu.socketPath,
            ])
        #expect(result.status == 1)
        #expect(result.lines.count == 3)
        #expect(try json(result.lines[2]) == ["return": [:]])
        #expect(result.standardError.contains("-c:1: CommandNotFound"))
        #expect(
            result.standardError.contains("-c:2: GenericError: Parameter 'flag' is unexpected"),
            "\(result.standardError)")
    }

    @Test func malformedLinesAreNamedWithTheirColumnBeforeAnythingIsSent() throws {
        let qemu = try QEMUInstance()
        let result = try ShellBinary.run([
            "-c", "query-status", "-c", #"blockdev-add file.filename="unterminated"#, qemu.socketPath,
        ])
        #expect(result.status == 1)
        #expect(result.lines.count == 1)
        #expect(result.standardError.hasPrefix("-c:2: column "), "\(result.standardError)")
        #expect(result.standardError.contains("file.filename"))
    }

    @Test func pipedStandardInputRunsLineByLine() throws {
        let qemu = try QEMUInstance()
        let input = """
            query-status
            {"execute": "query-version", "id": "mine"}
            human-monitor-command command-line="info version"
            """
        let result = try ShellBinary.run([qemu.socketPath], input: input + "\n")
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.lines.count == 3)
        #expect(try json(result.lines[1])["id"] == "mine", "a raw message keeps its own id")
        let version = try QEMUInstance.installedVersion()
        #expect(
            try json(result.lines[2])["return"]?.stringValue?.hasPrefix(version) == true,
            "quotes are removed: \(result.lines[2])")
    }

    @Test(.timeLimit(.minutes(2))) func rawJSONWithSingleQuotesIsSentAsStandardJSON() throws {
        let qemu = try QEMUInstance()
        let directory = try TemporaryDirectory()
        let log = directory.file("session.jsonl")
        let line = #"{'execute': 'human-monitor-command', 'arguments': {'command-line': 'info status'}, "id": 'it\'s'}"#
        let result = try ShellBinary.run(["-l", log, "-c", line, qemu.socketPath])
        #expect(result.status == 0, "\(result.standardError)")
        let reply = try json(try #require(result.lines.first))
        #expect(reply["return"]?.stringValue?.contains("VM status: running") == true, "\(result.standardOutput)")
        #expect(reply["id"] == "it's")
        // What went over the wire is standard JSON.
        let sent = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map { try json(String($0)) }
            .first { $0["direction"] == "out" && $0["message"]?["execute"] == "human-monitor-command" }
        #expect(sent?["message"]?["arguments"]?["command-line"] == "info status")
    }

    @Test func eventsAppearAsJSONLinesInWireOrder() throws {
        let qemu = try QEMUInstance()
        let result = try ShellBinary.run(["-c", "stop", "-c", "cont", "-c", "query-status", qemu.socketPath])
        #expect(result.status == 0, "\(result.standardError)")
        let names = try result.lines.map { line -> String in
            let message = try json(line)
            return message["event"]?.stringValue ?? "reply"
        }
        // QEMU sends STOP before the reply to `stop`, RESUME before the reply to `cont`.
        #expect(names == ["STOP", "reply", "RESUME", "reply", "reply"])
    }

    @Test func eventFilterKeepsOnlyTheNamedEvents() throws {
        let qemu = try QEMUInstance()
        let result = try ShellBinary.run(["--event", "RESUME", "-c", "stop", "-c", "cont", qemu.socketPath])
        #expect(result.status == 0)
        #expect(result.lines.filter { $0.contains(#""event""#) }.count == 1)
        #expect(result.standardOutput.contains(#""event":"RESUME""#))
    }

    @Test func transactionsSpanLinesInAScript() throws {
        let qemu = try QEMUInstance()
        let result = try ShellBinary.run(
            ["-f", "-", qemu.socketPath],
            input: "transaction(\n  abort\n)\ntransaction( )\n")
        // `abort` makes QEMU refuse the whole transaction; the empty one succeeds.
        #expect(result.lines.count == 1, "\(result.standardOutput)")
        #expect(result.status == 1)
        #expect(try json(result.lines[0])["error"]?["desc"]?.stringValue?.contains("abort") == true)
        #expect(result.standardError.hasPrefix("<stdin>:3: GenericError"))
    }

    @Test func dryRunPrintsTheMessagesAndConnectsToNothing() throws {
        let result = try ShellBinary.run([
            "--dry-run", "-c", #"human-monitor-command command-line="info version""#,
            "-c", "blockdev-add driver=qcow2 node-name=n0 file.driver=file file.filename=/tmp/x.qcow2 backing=null",
            "-c", ".wait JOB_STATUS_CHANGE id=j0",
        ])
        #expect(result.status == 0)
        #expect(
            result.lines == [
                #"{"execute":"human-monitor-command","arguments":{"command-line":"info version"}}"#,
                #"{"execute":"blockdev-add","arguments":{"driver":"qcow2","node-name":"n0","file":{"driver":"file","filename":"/tmp/x.qcow2"},"backing":null}}"#,
            ])
        #expect(result.standardError.contains(".wait JOB_STATUS_CHANGE: needs a server"))
    }

    @Test(.timeLimit(.minutes(2))) func dryRunChecksLinesPipedOnStandardInputAsWithDashF() throws {
        let result = try ShellBinary.run(["--dry-run"], input: "query-status\nblockdev-del node-name=n0\n")
        #expect(result.status == 0, "\(result.standardError)")
        #expect(
            result.lines == [
                #"{"execute":"query-status"}"#, #"{"execute":"blockdev-del","arguments":{"node-name":"n0"}}"#,
            ])
    }

    @Test(.timeLimit(.minutes(2))) func recordWithLinesToRunIsAUsageError() throws {
        let directory = try TemporaryDirectory()
        let file = directory.file("session.qmp")
        for arguments in [["-c", "query-status"], ["-f", "-"], ["--dry-run"], ["--watch"]] {
            let result = try ShellBinary.run(["--record", file] + arguments + [directory.file("vm.sock")], input: "")
            #expect(result.status == 2, "\(arguments)")
            #expect(result.standardError.contains("--record records the interactive shell"), "\(result.standardError)")
        }
        #expect(!FileManager.default.fileExists(atPath: file))
    }

    @Test(.timeLimit(.minutes(2))) func helpStatesEachDefaultOnceAndWrapsTheOverviewByParagraph() throws {
        let result = try ShellBinary.run(["--help"], environment: ["COLUMNS": "60"])
        #expect(result.status == 0)
        let help = result.standardOutput
        /// The help of `option`, up to the next option.
        func entry(_ option: String) throws -> Substring {
            let start = try #require(help.range(of: "  \(option) ")).lowerBound
            let rest = help[help.index(start, offsetBy: 2)...]
            return rest[..<(rest.range(of: "\n  -")?.lowerBound ?? rest.endIndex)]
        }
        #expect(try entry("--retry-delay").components(separatedBy: "default").count == 2, "\(help)")
        #expect(try entry("--color").components(separatedBy: "always").count == 2, "\(help)")
        // The overview is paragraphs wrapped to the width: a line is broken early only where a
        // paragraph ends.
        let overview = help[..<(try #require(help.range(of: "USAGE:")).lowerBound)].split(
            separator: "\n", omittingEmptySubsequences: false)
        for (line, next) in zip(overview, overview.dropFirst()) where !line.isEmpty && !next.isEmpty {
            #expect(line.count > 40 && line.count <= 60, "a line broken early: '\(line)'\n\(help)")
        }
    }

    @Test func hmpModeWorksOnAMachineWithoutCPUs() throws {
        let qemu = try QEMUInstance()
        let result = try ShellBinary.run(["-H", "-c", "info version", "-c", "info status", qemu.socketPath])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.lines.first?.hasPrefix(try QEMUInstance.installedVersion()) == true)
        #expect(result.standardOutput.contains("VM status: running"))
    }

    @Test func connectionFailuresExitThree() throws {
        let directory = try TemporaryDirectory()
        let missing = try ShellBinary.run(["-c", "query-status", directory.file("none.sock")])
        #expect(missing.status == 3)
        #expect(
            missing.standardError
                == "qmp-shell: could not connect to \(directory.file("none.sock")): No such file or directory\n")
        let notASocket = directory.file("plain")
        #expect(FileManager.default.createFile(atPath: notASocket, contents: Data()))
        let plain = try ShellBinary.run(["-c", "query-status", notASocket])
        #expect(plain.status == 3)
        #expect(
            plain.standardError.contains("not a socket") || plain.standardError.contains("refused"),
            "\(plain.standardError)")
    }

    /// A socket that never greets: the error names the two usual reasons.
    static let noGreeting =
        "qmp-shell: handshake failed: the server sent no greeting within 5 s: another client may hold the socket "
        + "(QEMU serves one client per monitor), or it is a guest agent's socket (use guest-agent mode, -g)\n"

    @Test(.timeLimit(.minutes(2))) func aMonitorAnotherClientHoldsIsNamedAsTheLikelyCause() async throws {
        let qemu = try QEMUInstance()
        let holder = QMPClient(configuration: .patient)
        try await holder.connect(to: .unix(path: qemu.socketPath))
        let result = try ShellBinary.run(["-c", "query-status", qemu.socketPath])
        #expect(result.status == 3)
        #expect(result.standardError == Self.noGreeting)
        await holder.disconnect()
    }

    @Test(.timeLimit(.minutes(2))) func aGuestAgentSocketWithoutDashGIsNamedAsTheLikelyCause() throws {
        let agent = try GuestAgentInstance()
        let result = try ShellBinary.run(["-c", "guest-ping", agent.socketPath])
        #expect(result.status == 3)
        #expect(result.standardError == Self.noGreeting)
    }

    @Test func losingQEMUMidScriptExitsThree() throws {
        let qemu = try QEMUInstance()
        let result = try ShellBinary.run(["-c", "query-status", "-c", "quit", "-c", "query-status", qemu.socketPath])
        #expect(result.status == 3, "\(result.standardError)")
        #expect(result.standardError.contains("disconnected"))
    }

    @Test func aLineWhoseReplyDoesNotComeWithinTheCommandTimeoutFails() throws {
        let qemu = try QEMUInstance()
        let directory = try TemporaryDirectory()
        let log = directory.file("messages.jsonl")
        let shell = try RunningShell(
            ["--command-timeout", "1", "--keep-going", "-l", log, "-f", "-", qemu.socketPath])
        // Connected (the log has the reply to qmp_capabilities); then QEMU stops, as in a debugger.
        try shell.waitUntil("the handshake") { _ in
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains(#""return""#)
        }
        kill(qemu.pid, SIGSTOP)
        defer { kill(qemu.pid, SIGCONT) }
        shell.write("query-status\nquery-name\n")
        shell.closeInput()
        #expect(try shell.waitForExit(timeout: .seconds(30)) == 1, "a timed-out line is a failed line")
        try shell.waitUntil("both failures named") { $0.standardError.components(separatedBy: "\n").count == 3 }
        #expect(
            shell.standardError
                == "<stdin>:1: no reply to query-status within 1 s\n<stdin>:2: no reply to query-name within 1 s\n")
        #expect(shell.standardOutput.isEmpty)
    }

    @Test func theCommandTimeoutIsForLinesToRunAndPositive() throws {
        for arguments in [
            ["--command-timeout", "0", "-c", "query-status"], ["--command-timeout=-1", "-c", "x"],
            ["--command-timeout", "nan", "-c", "x"],
        ] {
            let result = try ShellBinary.run(arguments + ["/tmp/none.sock"])
            #expect(result.status == 2, "\(arguments)")
            #expect(
                result.standardError.contains("--command-timeout must be a positive number of seconds"),
                "\(result.standardError)")
        }
        let help = try ShellBinary.run(["--help"]).standardOutput
        #expect(help.contains("--command-timeout <SECONDS>"))
    }

    @Test func aDottedKeyDeeperThanQEMUAcceptsIsRefusedBeforeItIsSent() throws {
        let qemu = try QEMUInstance()
        // 1,024 parts below `arguments` make a message 1,025 levels deep: QEMU would answer with an
        // error without an id, which ends the session.
        let key = Array(repeating: "k", count: 1024).joined(separator: ".")
        let result = try ShellBinary.run(
            [
                "--keep-going", "--no-schema-check", "-c", "qom-list path=/ \(key)=1", "-c", "query-status",
                qemu.socketPath,
            ])
        #expect(result.status == 1, "\(result.standardError)")
        #expect(
            result.standardError
                == "-c:1: column 17: key 'k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.…' nests deeper than 1024 levels, the most QEMU accepts\n"
        )
        #expect(result.lines.count == 1, "the session went on: \(result.standardOutput)")
        #expect(try json(result.lines[0])["return"]?["status"] == "running")
    }

    @Test func aScriptOnAFIFORunsEachLineAsItArrives() throws {
        let qemu = try QEMUInstance()
        let directory = try TemporaryDirectory()
        let fifo = directory.file("script.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let shell = try RunningShell(["-f", fifo, qemu.socketPath])
        // The shell opens the FIFO once connected; until then a writer that does not wait is refused.
        var writer: Int32 = -1
        try shell.waitUntil("the shell to open the FIFO") { _ in
            writer = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
            return writer >= 0
        }
        defer { if writer >= 0 { close(writer) } }
        func send(_ line: String) {
            _ = line.utf8CString.withUnsafeBufferPointer { write(writer, $0.baseAddress, $0.count - 1) }
        }
        send("query-status\n")
        try shell.waitUntil("the first reply, the FIFO still open") {
            $0.standardOutput.contains(#""status":"running""#)
        }
        send("query-name\n")
        try shell.waitUntil("the second reply") { $0.standardOutput.contains(#"{"return":{}}"#) }
        close(writer)
        writer = -1
        #expect(try shell.waitForExit() == 0, "\(shell.standardError)")
    }

    @Test func aLineLongerThanFourMiBStopsTheScriptWithItsLineNumber() throws {
        let directory = try TemporaryDirectory()
        let long = directory.file("long.qmp")
        try ("query-status\nquery-name\nx a=" + String(repeating: "y", count: 5 << 20) + "\nstop\n")
            .write(toFile: long, atomically: true, encoding: .utf8)
        let message = "line longer than 4 MiB (the most a script line may be); the script stops here"
        // A file without line endings: before, it was read whole (and /dev/zero never ends).
        let zero = try ShellBinary.run(["--dry-run", "-f", "/dev/zero"])
        #expect(zero.status == 1)
        #expect(zero.standardError == "/dev/zero:1: \(message)\n")
        // Even --keep-going cannot go on past a line it cannot read; the lines before it ran.
        let file = try ShellBinary.run(["--dry-run", "--keep-going", "-f", long])
        #expect(file.status == 1)
        #expect(file.lines == [#"{"execute":"query-status"}"#, #"{"execute":"query-name"}"#])
        #expect(file.standardError == "\(long):3: \(message)\n")
        // One byte over: the shell reads all that is written (it stops reading at the excess, and
        // a writer to a pipe nobody reads would die of SIGPIPE).
        let piped = try ShellBinary.run(
            ["--dry-run"], input: "query-status\n" + String(repeating: "z", count: (4 << 20) + 1))
        #expect(piped.status == 1)
        #expect(piped.lines == [#"{"execute":"query-status"}"#])
        #expect(piped.standardError == "<stdin>:2: \(message)\n")
    }

    @Test func usageErrorsExitTwo() throws {
        #expect(try ShellBinary.run(["--no-such-option"]).status == 2)
        #expect(try ShellBinary.run(["--count", "1", "/tmp/x.sock"]).status == 2)
        let noAddress = try ShellBinary.run(["-c", "query-status"], environment: ["QMP_SOCKET": ""])
        #expect(noAddress.status == 2)
        #expect(noAddress.standardError.contains("QMP_SOCKET"))
    }

    /// `qmp-shell -f big.qmp SOCK | head -1`: once `head` has gone the shell stops at once, sends
    /// nothing more, and ends as pipeline tools do (SIGPIPE: status 141), without a message.
    @Test func standardOutputClosedEarlyStopsTheRunAsAPipelineToolDoes() throws {
        let qemu = try QEMUInstance()
        let directory = try TemporaryDirectory()
        let script = directory.file("big.qmp")
        let log = directory.file("session.jsonl")
        let commands = 10_000
        try String(repeating: "query-name\n", count: commands).write(toFile: script, atomically: true, encoding: .utf8)
        let pipeline = Process()
        pipeline.executableURL = URL(fileURLWithPath: "/bin/bash")
        pipeline.arguments = [
            "-c", #""$0" -l "$1" -f "$2" "$3" | head -1; echo "status ${PIPESTATUS[0]}""#,
            ShellBinary.path, log, script, qemu.socketPath,
        ]
        let output = Pipe()
        let errors = Pipe()
        pipeline.standardOutput = output
        pipeline.standardError = errors
        try pipeline.run()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let diagnostics = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        pipeline.waitUntilExit()
        #expect(printed == "{\"return\":{}}\nstatus 141\n")
        #expect(diagnostics.isEmpty)
        let sent = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
            .filter { $0.contains(#""direction":"out""#) && $0.contains("query-name") }.count
        #expect(sent < commands / 2, "\(sent) of \(commands) commands were sent after the reader left")
    }

    @Test func aLogThatCannotBeOpenedIsAWarningNotAFailure() throws {
        let qemu = try QEMUInstance()
        let directory = try TemporaryDirectory()
        // A directory cannot be opened as a log file (even by root).
        let result = try ShellBinary.run(["-l", directory.path, "-c", "query-name", qemu.socketPath])
        #expect(result.status == 0)
        #expect(result.lines == [#"{"return":{}}"#])
        #expect(result.standardError == "qmp-shell: warning: cannot open log file \(directory.path): Is a directory\n")
    }

    @Test func logFileRecordsEveryMessageWithDirectionAndTime() throws {
        let qemu = try QEMUInstance()
        let directory = try TemporaryDirectory()
        let log = directory.file("session.jsonl")
        let result = try ShellBinary.run(["-l", log, "-c", "stop", "-c", "cont", qemu.socketPath])
        #expect(result.status == 0)
        let entries = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map {
            try json(String($0))
        }
        #expect(entries.first?["direction"] == "in")
        #expect(entries.first?["message"]?["QMP"] != nil)
        #expect(entries.contains { $0["direction"] == "out" && $0["message"]?["execute"] == "stop" })
        #expect(entries.contains { $0["direction"] == "in" && $0["message"]?["event"] == "RESUME" })
        #expect(entries.allSatisfy { $0["time"]?.stringValue?.hasSuffix("Z") == true })
        let attributes = try FileManager.default.attributesOfItem(atPath: log)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }
}
