import Foundation
import QMP
import QMPTestSupport
import QMPTestTraits
import Testing

/// The interactive shell in a real pseudo-terminal against real QEMU: keystrokes in, screen out.
@Suite("Interactive shell in a pseudo-terminal", .serialized, .timeLimit(.minutes(2)), .checksFakeServerScripts)
struct InteractiveShellTests {
    /// A shell on a fresh QEMU, with its own HOME so history starts empty.
    struct Session {
        let qemu: QEMUInstance
        let home: TemporaryDirectory
        let terminal: PseudoTerminalSession

        init(qemu: QEMUInstance? = nil, home: TemporaryDirectory? = nil, arguments: [String] = []) throws {
            self.qemu = try qemu ?? QEMUInstance()
            self.home = try home ?? TemporaryDirectory(prefix: "qmp-home")
            terminal = try PseudoTerminalSession(
                executable: ShellBinary.path, arguments: arguments + [self.qemu.socketPath],
                environment: ["HOME": self.home.path, "NO_COLOR": "1"])
            try terminal.waitForText("(QEMU) ")
        }

        /// The last non-empty line on screen (where the prompt is).
        var promptLine: String { terminal.screen.lines.last(where: { !$0.isEmpty }) ?? "" }

        /// Waits for the prompt to be back, then presses Ctrl-D.
        func leave() throws -> Int32 {
            try waitForPromptLine("(QEMU)")
            terminal.send("\u{4}")
            return try terminal.waitForExit()
        }

        /// Types `line` and Enter, and waits until it runs: the line stays the last one drawn,
        /// with the cursor at the start of the row below it.
        func enterAndWaitWhileItRuns(_ line: String) throws {
            terminal.send(line + "\r")
            try terminal.waitForScreen { screen in
                screen.lines.last(where: { !$0.isEmpty }) == "(QEMU) " + line && screen.cursorColumn == 0
            }
        }

        /// Waits until the bottom line is exactly `line` (and, if given, `text` is on screen).
        @discardableResult
        func waitForPromptLine(_ line: String, below text: String? = nil) throws -> TerminalScreen {
            try terminal.waitForScreen { screen in
                screen.lines.last(where: { !$0.isEmpty }) == line && text.map(screen.contains) != false
            }
        }
    }

    @Test func bannerNamesTheQEMUVersionAndPrompts() throws {
        let session = try Session()
        let screen = try session.terminal.waitForText("(QEMU) ")
        #expect(screen.contains("Welcome to the QMP low-level shell!"))
        #expect(screen.contains("Connected to QEMU \(try QEMUInstance.installedVersion())"))
        session.terminal.send("\u{4}")
        #expect(try session.terminal.waitForExit() == 0)
    }

    @Test func enterRunsTheCommandAndShowsTheReply() throws {
        let session = try Session()
        session.terminal.send("query-status\r")
        try session.terminal.waitForText(#""status":"running""#)
        try session.waitForPromptLine("(QEMU)")
        session.terminal.send("blockdev-add driver=null-co node-name=n0\r")
        try session.terminal.waitForText(#"{"return":{}}"#)
        // A command the server's schema lacks is refused before it is sent.
        session.terminal.send("nope\r")
        try session.terminal.waitForText("unknown command 'nope'")
        session.terminal.send("query-status flag=\"unterminated\r")
        try session.terminal.waitForText("unterminated quote")
    }

    @Test func anEventAppearsAboveAHalfTypedLineThatStaysIntact() async throws {
        let session = try Session()
        session.terminal.send("query-sta")
        try session.waitForPromptLine("(QEMU) query-sta")
        try await session.qemu.controlExecute("stop")
        // The event is drawn first and the prompt with the partial line after it (two writes), so
        // wait for the screen a user would settle on rather than the first frame with the event.
        let screen = try session.terminal.waitForScreen { screen in
            let lines = screen.lines.filter { !$0.isEmpty }
            return lines.count >= 2 && lines.last == "(QEMU) query-sta"
                && lines[lines.count - 2].hasSuffix(" STOP")
        }
        // The event is above the prompt; the prompt and the partial line are redrawn below it.
        let lines = screen.lines.filter { !$0.isEmpty }
        #expect(lines.last == "(QEMU) query-sta", "\(screen)")
        // As people read it: local time with milliseconds, then the name.
        #expect(lines.dropLast().last?.wholeMatch(of: /\d\d:\d\d:\d\d\.\d\d\d STOP/) != nil, "\(screen)")
        #expect(screen.cursorColumn == "(QEMU) query-sta".count, "\(screen)")
        // Finishing the line runs what was typed before the event.
        session.terminal.send("tus\r")
        try session.terminal.waitForText(#""status":"paused""#)
    }

    @Test func tabCompletesACommandAndEnterRunsIt() throws {
        let session = try Session()
        session.terminal.send("query-vers")
        try pressTabUntil(session) { $0.lines.contains { $0.hasPrefix("(QEMU) query-version") } }
        session.terminal.send("\r")
        try session.terminal.waitForText(#"{"return":{"qemu":"#)
    }

    @Test func tabCompletesTheCommonPrefixThenListsCandidates() throws {
        let session = try Session()
        // query-block, query-block-exports, query-block-jobs, query-blockstats share "query-block".
        session.terminal.send("query-bl")
        try pressTabUntil(session) { $0.lines.last(where: { !$0.isEmpty }) == "(QEMU) query-block" }
        session.terminal.send("\t")
        // The list, then the prompt drawn again under it with the line as it was (two writes:
        // wait for the screen they settle on).
        let screen = try session.waitForPromptLine("(QEMU) query-block", below: "query-block-jobs")
        #expect(screen.contains("query-blockstats"))
    }

    func pressTabUntil(_ session: Session, _ condition: @escaping (TerminalScreen) -> Bool) throws {
        try session.terminal.pressTab(until: condition)
    }

    @Test func ctrlCClearsTheLineAndCtrlDExitsZero() throws {
        let session = try Session()
        session.terminal.send("this is not a command")
        try session.waitForPromptLine("(QEMU) this is not a command")
        session.terminal.send("\u{3}")
        try session.waitForPromptLine("(QEMU)")
        session.terminal.send("query-name\r")
        try session.terminal.waitForText(#"{"return":{}}"#)
        #expect(!session.terminal.screen.contains("unknown command"), "the cleared line was not run")
        #expect(try session.leave() == 0)
    }

    @Test func historyIsRecalledInASecondSessionAndPrivate() throws {
        let qemu = try QEMUInstance()
        let home = try TemporaryDirectory(prefix: "qmp-home")
        do {
            let first = try Session(qemu: qemu, home: home)
            first.terminal.send("query-name\r")
            try first.terminal.waitForText(#"{"return":{}}"#)
            #expect(try first.leave() == 0)
        }
        let history = home.file(".qmp-shell_history")
        let attributes = try FileManager.default.attributesOfItem(atPath: history)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let second = try Session(qemu: qemu, home: home)
        second.terminal.send("\u{1b}[A")
        try second.waitForPromptLine("(QEMU) query-name")
        second.terminal.send("\r")
        try second.terminal.waitForText(#"{"return":{}}"#)
    }

    @Test func anUnusableHistoryFileIsANoticeNotAFailure() throws {
        let qemu = try QEMUInstance()
        let home = try TemporaryDirectory(prefix: "qmp-home")
        // A directory cannot hold history (even for root).
        let session = try Session(qemu: qemu, home: home, arguments: ["--history", home.path])
        session.terminal.send("query-name\r")
        try session.terminal.waitForText(#"{"return":{}}"#)
        #expect(session.terminal.screen.contains(home.path), "the problem is named: \(session.terminal.screen)")
        #expect(try session.leave() == 0)
    }

    @Test func transactionsPromptWithTRANS() throws {
        let session = try Session()
        session.terminal.send("transaction(\r")
        try session.waitForPromptLine("TRANS>")
        session.terminal.send("abort\r")
        try session.waitForPromptLine("TRANS>")
        session.terminal.send(")\r")
        try session.terminal.waitForText("Transaction aborted using Abort action")
        try session.waitForPromptLine("(QEMU)")
    }

    @Test func aRecordedSessionReplaysAsAScript() throws {
        let qemu = try QEMUInstance()
        let directory = try TemporaryDirectory()
        let script = directory.file("session.qmp")
        do {
            let session = try Session(qemu: qemu, arguments: ["--record", script])
            for line in ["stop", "no-such-command", "transaction(", "abort", ")", "cont", ".wait RESUME"] {
                session.terminal.send(line + "\r")
            }
            // RESUME is shown once, when it arrives (the .wait that matched it does not repeat it);
            // then the prompt returns below the .wait line.
            let screen = try session.terminal.waitForScreen { screen in
                screen.lines.contains("(QEMU) .wait RESUME") && screen.lines.last(where: { !$0.isEmpty }) == "(QEMU)"
            }
            #expect(
                screen.lines.filter { $0.wholeMatch(of: /\d\d:\d\d:\d\d\.\d\d\d RESUME/) != nil }.count == 1,
                "\(screen)")
            session.terminal.send("\u{4}")
            #expect(try session.terminal.waitForExit() == 0)
        }
        let recorded = try String(contentsOfFile: script, encoding: .utf8)
        #expect(recorded.split(separator: "\n").filter { !$0.hasPrefix("#") } == ["stop", "cont", ".wait RESUME"])
        let replay = try ShellBinary.run(["-f", script, qemu.socketPath])
        #expect(replay.status == 0, "\(replay.standardError)")
        #expect(replay.standardOutput.contains(#""event":"STOP""#))
    }

    @Test func keysTypedWhileACommandRunsReachTheNextPrompt() async throws {
        let session = try Session()
        // A command that runs until the test ends it, so the keys are typed while it runs however
        // slow the machine is.
        try session.enterAndWaitWhileItRuns(".wait STOP timeout=30")
        session.terminal.send("query-name\r\u{4}")
        try await session.qemu.controlExecute("stop")
        #expect(try session.terminal.waitForExit() == 0, "Ctrl-D typed ahead ends the shell")
        let lines = session.terminal.screen.lines
        // Shown once, by the prompt that read it (the terminal does not echo it over the sleep).
        #expect(lines.filter { $0.contains("query-name") } == ["(QEMU) query-name"], "\(session.terminal.screen)")
        #expect(lines.contains(#"{"return":{}}"#))
    }

    @Test func ctrlCStopsTheRunningCommandAndThePromptReturns() throws {
        let session = try Session()
        try session.enterAndWaitWhileItRuns(".sleep 60")
        session.terminal.send("\u{3}")
        let screen = try session.waitForPromptLine("(QEMU)")
        let lines = screen.lines.filter { !$0.isEmpty }
        #expect(Array(lines.suffix(3)) == ["(QEMU) .sleep 60", "^C", "(QEMU)"], "\(screen)")
        #expect(try session.leave() == 0)
    }

    /// Enter and Ctrl-C in one burst (or Ctrl-C a moment after Enter on a busy machine, before
    /// the terminal has made it a signal again): the command the line starts is stopped, and the
    /// keys typed after the ^C make the next line.
    @Test func ctrlCTypedWithTheEnterThatStartsACommandStopsIt() throws {
        let session = try Session()
        // The first key's echo shows the line editor reading: a burst sent the moment the prompt
        // appears can fall in the instant before the interrupt key becomes a key for the line
        // (a signal then, which also drops the keys before it; failed once in CI that way).
        session.terminal.send(".")
        _ = try session.terminal.waitForText("(QEMU) .", timeout: .seconds(20))
        session.terminal.send("sleep 60\r\u{3}query-name\r")
        let screen = try session.terminal.waitForText(#"{"return":{}}"#, timeout: .seconds(20))
        let lines = screen.lines.filter { !$0.isEmpty }
        let sleep = try #require(lines.firstIndex(of: "(QEMU) .sleep 60"), "\(screen)")
        #expect(Array(lines[sleep...].prefix(3)) == ["(QEMU) .sleep 60", "^C", "(QEMU) query-name"], "\(screen)")
        #expect(try session.leave() == 0)
    }

    /// Lines pasted at once run one after the other, each shown with its reply: the keys after a
    /// line's Enter wait for the next prompt (read as the line ended, or still in the terminal).
    @Test func linesPastedAtOnceRunInOrder() throws {
        let session = try Session()
        session.terminal.send("query-name\rquery-status\rquery-name\r")
        let screen = try session.terminal.waitForScreen(timeout: .seconds(20)) { screen in
            screen.lines.filter { $0 == #"{"return":{}}"# }.count == 2
        }
        let lines = screen.lines.filter { !$0.isEmpty && $0 != "(QEMU)" }
        let first = try #require(lines.firstIndex(of: "(QEMU) query-name"), "\(screen)")
        #expect(lines[first...].count == 6, "\(screen)")
        #expect(lines[first + 2] == "(QEMU) query-status", "\(screen)")
        #expect(lines[first + 3].contains(#""status":"running""#), "\(screen)")
        #expect(lines[first + 4] == "(QEMU) query-name", "\(screen)")
        #expect(try session.leave() == 0)
    }

    /// Ctrl-C and the keys after it arrive in one burst (a paste, a fast typist, a slow
    /// machine): the half-typed line before the ^C is dropped and the keys after it make the
    /// next line, in the order they were typed.
    @Test func keysTypedInTheSameInstantAsCtrlCAreHandledInOrder() throws {
        let session = try Session()
        session.terminal.send("half line")
        try session.waitForPromptLine("(QEMU) half line")
        session.terminal.send("\u{3}query-name\r")
        let screen = try session.terminal.waitForText(#"{"return":{}}"#)
        let lines = screen.lines.filter { !$0.isEmpty }
        #expect(lines.contains("(QEMU) half line^C"), "\(screen)")
        #expect(lines.contains("(QEMU) query-name"), "\(screen)")
        #expect(!screen.contains("half linequery-name"), "the keys after ^C joined the abandoned line")
        #expect(!session.terminal.transcript.contains("\u{7}"), "Ctrl-C rang the terminal's bell")
        // Ctrl-\ is a second Ctrl-C, also in order with the keys after it. (Between lines, while a
        // command runs, both are signals again: they stop the command.)
        session.terminal.send("more")
        try session.waitForPromptLine("(QEMU) more")
        session.terminal.send("\u{1c}query-status\r")
        try session.terminal.waitForText(#""status":"running""#)
        #expect(session.terminal.screen.lines.contains("(QEMU) more^C"), "\(session.terminal.screen)")
        #expect(try session.leave() == 0)
    }

    @Test(.timeLimit(.minutes(2))) func typingQuitEndsTheShellWithSuccess() throws {
        let session = try Session()
        session.terminal.send("quit\r")
        // The user asked QEMU to quit: its closing the connection is no error.
        #expect(try session.terminal.waitForExit() == 0, "\(session.terminal.screen)")
        #expect(!session.terminal.screen.contains("disconnected"), "\(session.terminal.screen)")
    }

    @Test(.timeLimit(.minutes(2))) func theGuestAgentsPromptNamesIt() throws {
        let agent = try GuestAgentInstance()
        let home = try TemporaryDirectory(prefix: "qmp-home")
        let terminal = try PseudoTerminalSession(
            executable: ShellBinary.path, arguments: ["-g", agent.socketPath],
            environment: ["HOME": home.path, "NO_COLOR": "1"])
        let screen = try terminal.waitForText("(QGA) ")
        #expect(screen.contains("Connected to the guest agent at \(agent.socketPath)"))
        terminal.send("guest-ping\r")
        try terminal.waitForScreen { screen in
            screen.contains(#"{"return":{}}"#) && screen.lines.last(where: { !$0.isEmpty }) == "(QGA)"
        }
        #expect(!terminal.screen.contains("(QEMU)"), "\(terminal.screen)")
        terminal.send("\u{4}")
        #expect(try terminal.waitForExit() == 0)
    }

    /// A shell whose `-l` log shows what it sent, on a QEMU that is then stopped as in a debugger:
    /// it reads nothing and answers nothing.
    struct StoppedQEMUSession {
        let session: Session
        let logs: TemporaryDirectory
        let log: String

        init() throws {
            logs = try TemporaryDirectory()
            log = logs.file("messages.jsonl")
            session = try Session(arguments: ["-l", log])
            kill(session.qemu.pid, SIGSTOP)
        }

        /// Enters `command` and waits until it is written to QEMU.
        func enterAndWaitUntilSent(_ command: String) throws {
            session.terminal.send(command + "\r")
            let deadline = ContinuousClock.now + .seconds(10)
            while !((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains(#"{"execute":"\#(command)""#) {
                guard ContinuousClock.now < deadline else { throw FakeServerError("\(command) was never sent") }
                usleep(10_000)
            }
        }
    }

    @Test func ctrlCGivesUpACommandThatQEMUNeverAnswersAndCtrlBackslashActsAsCtrlC() throws {
        let stopped = try StoppedQEMUSession()
        let session = stopped.session
        defer { kill(session.qemu.pid, SIGCONT) }
        try stopped.enterAndWaitUntilSent("query-status")
        session.terminal.send("\u{3}")
        try session.waitForPromptLine("(QEMU)", below: "the reply to query-status was abandoned")
        try stopped.enterAndWaitUntilSent("query-version")
        session.terminal.send("\u{1c}")
        try session.waitForPromptLine("(QEMU)", below: "the reply to query-version was abandoned")
        // At the prompt, Ctrl-\ clears the line as Ctrl-C does.
        session.terminal.send("query-na")
        try session.waitForPromptLine("(QEMU) query-na")
        session.terminal.send("\u{1c}")
        try session.waitForPromptLine("(QEMU)", below: "(QEMU) query-na^C")
        // QEMU resumes: the late replies are dropped, each said once, and the session goes on.
        kill(session.qemu.pid, SIGCONT)
        try session.terminal.waitForText("the reply to query-version came after it was abandoned")
        #expect(session.terminal.screen.contains("the reply to query-status came after it was abandoned"))
        session.terminal.send("query-name\r")
        try session.waitForPromptLine("(QEMU)", below: "{\"return\":{}}")
        let screen = session.terminal.screen
        #expect(!screen.contains("rash") && !screen.contains("💣"), "\(screen)")
        #expect(try session.leave() == 0)
    }

    @Test func ctrlDAtThePromptExitsWhileQEMUIsStopped() throws {
        let stopped = try StoppedQEMUSession()
        let session = stopped.session
        defer { kill(session.qemu.pid, SIGCONT) }
        // A command given up with Ctrl-C is still pending in QEMU: leaving does not wait for it.
        try stopped.enterAndWaitUntilSent("query-status")
        session.terminal.send("\u{3}")
        try session.waitForPromptLine("(QEMU)", below: "the reply to query-status was abandoned")
        session.terminal.send("\u{4}")
        #expect(try session.terminal.waitForExit(timeout: .seconds(10)) == 0, "\(session.terminal.screen)")
    }

    @Test func ctrlBackslashQuitsAScriptRunWithoutACrashReport() throws {
        let terminal = try PseudoTerminalSession(
            executable: ShellBinary.path, arguments: ["--dry-run", "-c", ".echo started", "-c", ".sleep 30"])
        try terminal.waitForText("started")
        terminal.send("\u{1c}")
        #expect(try terminal.waitForExit(timeout: .seconds(10)) == 128 + SIGQUIT, "\(terminal.screen)")
        #expect(!terminal.screen.contains("rash") && !terminal.screen.contains("💣"), "\(terminal.screen)")
    }

    @Test func losingQEMUAtThePromptSaysSoAndExitsThree() throws {
        let session = try Session()
        session.qemu.kill()
        try session.terminal.waitForText("disconnected")
        #expect(try session.terminal.waitForExit() == 3)
    }
}
