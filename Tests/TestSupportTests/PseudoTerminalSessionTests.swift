import Glibc
import QMPTestSupport
import Testing

@Suite("Pseudo-terminal sessions", .timeLimit(.minutes(1)))
struct PseudoTerminalSessionTests {
    @Test func childRunsOnATerminalOfTheRequestedSize() throws {
        let session = try PseudoTerminalSession(
            executable: "/bin/sh",
            arguments: ["-c", "stty -a; tty"],
            columns: 100,
            rows: 30
        )
        #expect(session.pid > 0)
        try session.waitForText("/dev/pts/")
        #expect(try session.waitForExit() == 0)
        let screen = session.screen
        #expect(screen.contains("rows 30; columns 100;"), "\(screen)")
        #expect(screen.columns == 100 && screen.rows == 30)
    }

    @Test func catEchoesTypedLineTwice() throws {
        let session = try PseudoTerminalSession(executable: "/bin/cat", arguments: [])
        session.send("hello\r")
        // Until the line's end is read too: cat's line may reach the reader in two pieces.
        let screen = try session.waitForScreen { screen in
            screen.lines.filter { $0 == "hello" }.count == 2 && screen.cursorRow == 2
        }
        // The terminal echoes as the user types, then cat writes the line back.
        #expect(Array(screen.lines.prefix(2)) == ["hello", "hello"])
        #expect(screen.cursorColumn == 0)
        #expect(session.transcript == "hello\r\nhello\r\n")
    }

    @Test func controlCInterruptsTheForegroundProgram() throws {
        let session = try PseudoTerminalSession(executable: "/bin/cat", arguments: [])
        session.send("x\r")
        try session.waitForScreen { $0.lines.filter { $0 == "x" }.count == 2 }
        // The line discipline only turns ^C into SIGINT for the controlling terminal's
        // foreground process group, and cat dies of it only if SIGINT is not ignored.
        session.send("\u{3}")
        #expect(try session.waitForExit() == 128 + SIGINT)
        #expect(session.screen.contains("^C"))
    }

    @Test func controlDEndsInput() throws {
        let session = try PseudoTerminalSession(executable: "/bin/cat", arguments: [])
        session.send("\u{4}")
        #expect(try session.waitForExit() == 0)
    }

    @Test func resizeChangesTheSizeAndSignalsTheProgram() throws {
        // The trap runs between sleeps, so it proves SIGWINCH arrived, not just the new size.
        let session = try PseudoTerminalSession(
            executable: "/bin/sh",
            arguments: ["-c", "trap 'echo winch; stty size' WINCH; stty size; while :; do sleep 0.05; done"]
        )
        try session.waitForText("24 80")
        session.resize(columns: 100, rows: 40)
        let screen = try session.waitForText("40 100")
        #expect(screen.lines.prefix(3) == ["24 80", "winch", "40 100"], "\(screen)")
        #expect(screen.columns == 100 && screen.rows == 40)
    }

    @Test func childStartsWithCleanSignalStateEvenIfTheTestProcessHasNone() throws {
        // Make the parent's state visibly different: ignore SIGPIPE (as servers do) and block
        // SIGUSR2 on this thread, which posix_spawn would otherwise pass on.
        let previousHandler = signal(SIGPIPE, SIG_IGN)
        var blocked = sigset_t()
        var previousMask = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGUSR2)
        pthread_sigmask(SIG_BLOCK, &blocked, &previousMask)
        defer {
            pthread_sigmask(SIG_SETMASK, &previousMask, nil)
            signal(SIGPIPE, previousHandler)
        }
        let session = try PseudoTerminalSession(
            executable: "/bin/grep",
            arguments: ["-E", "^(SigBlk|SigIgn):", "/proc/self/status"]
        )
        #expect(try session.waitForExit() == 0)
        let screen = session.screen
        #expect(
            screen.contains("SigBlk:\t0000000000000000") || screen.contains("SigBlk: 0000000000000000"), "\(screen)")
        let ignored = try #require(screen.lines.first { $0.hasPrefix("SigIgn:") }?.split(separator: " ").last)
        // glibc's posix_spawn itself leaves its internal signals 32 and 33 (thread cancellation
        // and setxid, below SIGRTMIN) ignored across exec; programs cannot use them anyway.
        let glibcInternal: UInt64 = 1 << 31 | 1 << 32
        #expect(UInt64(ignored, radix: 16).map { $0 & ~glibcInternal } == 0, "\(screen)")
    }

    @Test func environmentHasTermHomePathAndExtras() throws {
        let session = try PseudoTerminalSession(
            executable: "/usr/bin/env",
            arguments: [],
            environment: ["QMP_TEST_VARIABLE": "yes"]
        )
        #expect(try session.waitForExit() == 0)
        let lines = session.screen.lines
        #expect(lines.contains("TERM=xterm-256color"))
        #expect(lines.contains("QMP_TEST_VARIABLE=yes"))
        #expect(lines.contains { $0.hasPrefix("PATH=") })

        let dumb = try PseudoTerminalSession(executable: "/usr/bin/env", arguments: [], environment: ["TERM": "dumb"])
        #expect(try dumb.waitForExit() == 0)
        #expect(dumb.screen.lines.contains("TERM=dumb"))
    }

    @Test func timeoutErrorShowsTheScreen() throws {
        let session = try PseudoTerminalSession(executable: "/bin/sh", arguments: ["-c", "echo visible; exec cat"])
        try session.waitForText("visible")
        let error = try #require(throws: PseudoTerminalError.self) {
            try session.waitForText("never printed", timeout: .milliseconds(200))
        }
        #expect(error.description.contains("never printed"))
        #expect(error.description.contains("timed out"))
        #expect(error.description.contains(" |visible"))
    }

    @Test func waitingForTextAfterExitFailsFast() throws {
        let session = try PseudoTerminalSession(executable: "/bin/sh", arguments: ["-c", "echo bye; exit 3"])
        let start = ContinuousClock.now
        let error = try #require(throws: PseudoTerminalError.self) {
            try session.waitForText("never printed", timeout: .seconds(30))
        }
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(error.description.contains("bye"), "\(error)")
        #expect(try session.waitForExit() == 3)
    }

    @Test func terminateKillsAndReaps() throws {
        let session = try PseudoTerminalSession(executable: "/bin/sleep", arguments: ["60"])
        let pid = session.pid
        #expect(kill(pid, 0) == 0)
        session.terminate()
        let result = kill(pid, 0)
        let error = errno
        #expect(result == -1 && error == ESRCH)
        #expect(try session.waitForExit(timeout: .zero) == 128 + SIGKILL)
    }

    @Test func deinitKillsTheProgram() throws {
        var pid: pid_t = 0
        do {
            let session = try PseudoTerminalSession(executable: "/bin/sleep", arguments: ["60"])
            pid = session.pid
        }
        #expect(pid > 0)
        let result = kill(pid, 0)
        let error = errno
        #expect(result == -1 && error == ESRCH)
    }

    @Test func missingExecutableThrows() {
        #expect(throws: PseudoTerminalError.self) {
            _ = try PseudoTerminalSession(executable: "/nonexistent/program", arguments: [])
        }
    }
}
