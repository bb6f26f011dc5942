#if canImport(Glibc)
    import Foundation
    import Glibc
    import Synchronization

    /// A failure to start, drive or wait for a program in a pseudo-terminal.
    ///
    /// When a wait fails, the description includes the screen as the user would have seen it and
    /// the end of the raw output, so a failing test shows what went wrong.
    public struct PseudoTerminalError: Error, CustomStringConvertible {
        /// What failed.
        public let message: String
        /// The screen when the failure happened, if a program was running.
        public let screen: TerminalScreen?
        /// The last bytes of output, with control characters made visible.
        public let recentOutput: String?
        /// Where each thread of a program that would not end was (gdb's backtraces), so a hang seen
        /// once, in CI, names its place.
        public let backtraces: String?

        init(_ message: String, screen: TerminalScreen? = nil, recentOutput: String? = nil, backtraces: String? = nil) {
            self.message = message
            self.screen = screen
            self.recentOutput = recentOutput
            self.backtraces = backtraces
        }

        init(_ message: String, errno code: Int32) {
            self.init("\(message): \(String(cString: strerror(code))) (errno \(code))")
        }

        /// The message, then the screen and recent output when known.
        public var description: String {
            var result = message
            if let screen {
                result += "\n" + screen.description
            }
            if let recentOutput {
                result += "recent output: \"\(recentOutput)\""
            }
            if let backtraces {
                result += "\nthreads of the program:\n" + backtraces
            }
            return result
        }
    }

    /// A program running in its own pseudo-terminal, driven like a user at a terminal would:
    /// keystrokes in, screen out.
    ///
    /// The program is the leader of a new session whose controlling terminal is the pseudo-terminal,
    /// with stdin, stdout and stderr on it, an empty signal mask and default signal dispositions, so
    /// Ctrl-C, job control and window-size changes behave as in a terminal emulator. Its output is
    /// read only while a method of this class is waiting, and fed to a ``TerminalScreen``.
    ///
    /// The program is killed (with its process group) when the session is deinitialized, so no test
    /// leaks a process.
    ///
    /// This class is `@unchecked Sendable`: the mutable state (screen, transcript, exit status) is
    /// guarded by a mutex, the file descriptors never change and are closed only in `deinit`, and
    /// output is read and fed to the screen with the mutex held so that concurrent waiters see it in
    /// order.
    ///
    /// The waiting methods block the calling thread (in `poll(2)`). That is fine in a synchronous
    /// test, but a test that also needs Swift concurrency work to make progress (a fake server
    /// running on the cooperative pool, say) should not tie up a cooperative thread for long.
    public final class PseudoTerminalSession: @unchecked Sendable {
        /// The process id of the program, which is also its process group and session id.
        public let pid: pid_t

        private let masterFD: Int32
        /// Becomes readable when the program exits; -1 if the kernel or C library lacks pidfd_open.
        private let pidFD: Int32
        private let state: Mutex<State>

        private struct State {
            var screen: TerminalScreen
            var output: [UInt8] = []
            var outputEnded = false
            var exitStatus: Int32?
        }

        /// Starts a program in a new pseudo-terminal.
        ///
        /// - Parameters:
        ///   - executable: The program's path; a name without `/` is looked up in this process's
        ///     `PATH`.
        ///   - arguments: The arguments, not including the program name.
        ///   - environment: Variables added to the program's environment, which otherwise holds
        ///     only `TERM=xterm-256color` and this process's `HOME` and `PATH`. These win, so
        ///     `TERM` can be overridden.
        ///   - columns: The terminal width.
        ///   - rows: The terminal height.
        public init(
            executable: String,
            arguments: [String],
            environment: [String: String] = [:],
            columns: Int = 80,
            rows: Int = 24
        ) throws {
            guard (1...Int(UInt16.max)).contains(columns), (1...Int(UInt16.max)).contains(rows) else {
                throw PseudoTerminalError("invalid terminal size \(columns)x\(rows)")
            }
            var master: Int32 = -1
            var slave: Int32 = -1
            var size = winsize(ws_row: UInt16(rows), ws_col: UInt16(columns), ws_xpixel: 0, ws_ypixel: 0)
            guard openpty(&master, &slave, nil, nil, &size) == 0 else {
                throw PseudoTerminalError("openpty failed", errno: errno)
            }
            // openpty cannot open close-on-exec. Until these calls, a process spawned by another
            // thread can inherit the descriptors; that only delays its hangup, and posix_openpt
            // (which takes O_CLOEXEC) is not visible to Swift.
            _ = fcntl(master, F_SETFD, FD_CLOEXEC)
            _ = fcntl(slave, F_SETFD, FD_CLOEXEC)
            defer { close(slave) }
            // Non-blocking so a read after poll(2) never hangs and a full input queue never blocks
            // send(_:) while the program waits for its output to be read.
            _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)

            var nameBuffer = [CChar](repeating: 0, count: 256)
            let nameError = ttyname_r(slave, &nameBuffer, nameBuffer.count)
            guard nameError == 0 else {
                close(master)
                throw PseudoTerminalError("ttyname_r failed", errno: nameError)
            }
            let slavePath = String(decoding: nameBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)

            do {
                pid = try Self.spawn(
                    executable: executable,
                    arguments: arguments,
                    environment: Self.childEnvironment(adding: environment),
                    terminalPath: slavePath
                )
            } catch {
                close(master)
                throw error
            }
            masterFD = master
            pidFD = Self.openPIDFD(pid)
            state = Mutex(State(screen: TerminalScreen(columns: columns, rows: rows)))
        }

        deinit {
            terminate()
            close(masterFD)
            if pidFD >= 0 { close(pidFD) }
        }

        // MARK: - Driving the program

        /// Types raw bytes at the terminal: `"\r"` is Enter, `"\t"` Tab, `"\u{3}"` Ctrl-C,
        /// `"\u{4}"` Ctrl-D, `"\u{1b}[A"` the Up arrow.
        ///
        /// Write errors (the program has gone) are not reported here; the next wait reports them
        /// together with the screen.
        public func send(_ keys: String) {
            let bytes = Array(keys.utf8)
            var offset = 0
            let deadline = ContinuousClock.now + .seconds(10)
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { buffer in
                    write(masterFD, buffer.baseAddress! + offset, buffer.count - offset)
                }
                if written > 0 {
                    offset += written
                    continue
                }
                let error = errno
                if written < 0 && error == EINTR { continue }
                guard written < 0 && error == EAGAIN, ContinuousClock.now < deadline else { return }
                // The input queue is full. Keep reading output meanwhile: the program may be
                // blocked writing to us rather than reading.
                if state.withLock({ drain(&$0) }) { return }
                var descriptor = pollfd(fd: masterFD, events: Int16(POLLIN | POLLOUT), revents: 0)
                _ = poll(&descriptor, 1, Self.milliseconds(until: deadline, atMost: .seconds(1)))
            }
        }

        /// Changes the terminal size, as when the user resizes the window.
        ///
        /// The kernel sends `SIGWINCH` to the terminal's foreground process group, exactly as with
        /// a terminal emulator; sending another one would make programs redraw twice.
        public func resize(columns: Int, rows: Int) {
            precondition((1...Int(UInt16.max)).contains(columns) && (1...Int(UInt16.max)).contains(rows))
            state.withLock { state in
                // Output already written was laid out for the old size.
                _ = drain(&state)
                var size = winsize(ws_row: UInt16(rows), ws_col: UInt16(columns), ws_xpixel: 0, ws_ypixel: 0)
                _ = ioctl(masterFD, UInt(TIOCSWINSZ), &size)
                state.screen.resize(columns: columns, rows: rows)
            }
        }

        /// Kills the program and its process group with `SIGKILL` and reaps it. Does nothing if it
        /// has already been reaped. Output it wrote remains readable through ``screen``.
        public func terminate() {
            state.withLock { state in
                guard state.exitStatus == nil else { return }
                // The process group is the program's own (it leads a new session); killing the
                // group also takes helpers it started, such as a pager.
                _ = kill(-pid, SIGKILL)
                _ = kill(pid, SIGKILL)
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                state.exitStatus = Self.decode(status)
            }
        }

        // MARK: - Observing the program

        /// The screen, after reading whatever output is available right now.
        public var screen: TerminalScreen {
            state.withLock { state in
                _ = drain(&state)
                return state.screen
            }
        }

        /// All output so far, raw (escape sequences included), after reading whatever is available
        /// right now. For diagnostics.
        public var transcript: String {
            state.withLock { state in
                _ = drain(&state)
                return String(decoding: state.output, as: UTF8.self)
            }
        }

        /// Waits until `text` appears anywhere in the output so far, even if it has since scrolled off
        /// the screen (a flood of lines after it). Searches only what is new on each pass.
        public func waitForOutput(containing text: String, timeout: Duration = .seconds(10)) throws {
            let needle = Array(text.utf8)
            let deadline = ContinuousClock.now + timeout
            var searchedUpTo = 0
            while true {
                let (found, ended) = state.withLock { state -> (Bool, Bool) in
                    let ended = drain(&state)
                    let start = max(0, searchedUpTo - needle.count)
                    let found =
                        state.output.count >= needle.count
                        && state.output[start...].firstRange(of: needle) != nil
                    searchedUpTo = state.output.count
                    return (found, ended)
                }
                if found { return }
                if ended { throw failure("the terminal closed before \"\(text)\" was written") }
                let remaining = Self.milliseconds(until: deadline, atMost: Self.slice)
                if remaining == 0 { throw failure("timed out after \(timeout) waiting for \"\(text)\" in the output") }
                try stopIfCancelled(waitingFor: "\"\(text)\" in the output")
                var descriptor = pollfd(fd: masterFD, events: Int16(POLLIN), revents: 0)
                _ = poll(&descriptor, 1, remaining)
            }
        }

        /// Reads output until the screen satisfies a condition, and returns that screen.
        ///
        /// The condition is checked before anything is read and after each chunk of output.
        ///
        /// - Throws: ``PseudoTerminalError``, showing the screen, when the timeout passes or the
        ///   terminal's output ends (the program exited) without the condition holding.
        @discardableResult
        public func waitForScreen(
            timeout: Duration = .seconds(10),
            _ condition: (TerminalScreen) -> Bool
        ) throws -> TerminalScreen {
            let deadline = ContinuousClock.now + timeout
            while true {
                let (screen, ended) = state.withLock { state in
                    let ended = drain(&state)
                    return (state.screen, ended)
                }
                if condition(screen) {
                    return screen
                }
                if ended {
                    // The exit usually follows the hangup closely; its status makes a better message.
                    let status = try? waitForExit(timeout: min(deadline - ContinuousClock.now, .seconds(1)))
                    let how = status.map { "the program exited with status \($0)" } ?? "the terminal was hung up"
                    throw failure("\(how) before the screen showed what was expected")
                }
                let remaining = Self.milliseconds(until: deadline, atMost: Self.slice)
                if remaining == 0 {
                    throw failure("timed out after \(timeout) waiting for the screen")
                }
                try stopIfCancelled(waitingFor: "the screen")
                var descriptor = pollfd(fd: masterFD, events: Int16(POLLIN), revents: 0)
                _ = poll(&descriptor, 1, remaining)
            }
        }

        /// Presses Tab, again every half second, until `condition` holds: completion candidates can
        /// arrive after the first prompt (the shell learns them from the server then).
        public func pressTab(until condition: @escaping (TerminalScreen) -> Bool, timeout: Duration = .seconds(10))
            throws
        {
            let deadline = ContinuousClock.now + timeout
            while true {
                send("\t")
                if (try? waitForScreen(timeout: .milliseconds(500), condition)) != nil { return }
                guard ContinuousClock.now < deadline else { throw failure("Tab never completed") }
            }
        }

        /// Reads output until the text appears on the screen (see ``TerminalScreen/contains(_:)``).
        @discardableResult
        public func waitForText(_ text: String, timeout: Duration = .seconds(10)) throws -> TerminalScreen {
            do {
                return try waitForScreen(timeout: timeout) { $0.contains(text) }
            } catch let error as PseudoTerminalError {
                throw PseudoTerminalError(
                    "waiting for \"\(text)\": " + error.message,
                    screen: error.screen,
                    recentOutput: error.recentOutput
                )
            }
        }

        /// Waits for the program to exit, reading its output meanwhile so it never blocks on a full
        /// terminal, and returns its status as a shell reports it: the exit code, or 128 plus the
        /// signal number if a signal killed it (130 for `SIGINT`).
        ///
        /// - Throws: ``PseudoTerminalError``, showing the screen, if it is still running after the
        ///   timeout. It is not killed then; ``terminate()`` or deinitialization does that.
        @discardableResult
        public func waitForExit(timeout: Duration = .seconds(10)) throws -> Int32 {
            let deadline = ContinuousClock.now + timeout
            while true {
                let (status, ended) = state.withLock { state in
                    let ended = drain(&state)
                    reapIfExited(&state)
                    return (state.exitStatus, ended)
                }
                if let status {
                    return status
                }
                // Without a pidfd nothing signals the exit itself, so recheck often.
                let slice: Duration = pidFD >= 0 ? Self.slice : .milliseconds(20)
                let remaining = Self.milliseconds(until: deadline, atMost: slice)
                if remaining == 0 {
                    throw failure(
                        "timed out after \(timeout) waiting for the program to exit",
                        backtraces: Self.backtraces(of: pid))
                }
                try stopIfCancelled(waitingFor: "the program to exit")
                var descriptors = [
                    pollfd(fd: pidFD, events: Int16(POLLIN), revents: 0),
                    // A negative descriptor is skipped by poll(2): a hung-up terminal would
                    // otherwise report POLLHUP forever and spin this loop.
                    pollfd(fd: ended ? -1 : masterFD, events: Int16(POLLIN), revents: 0),
                ]
                _ = poll(&descriptors, 2, remaining)
            }
        }

        // MARK: - Internals

        /// How long one poll(2) of a wait may block: the waits check between polls whether their test
        /// was cancelled (its time limit passed), so a stuck program fails the test at its limit.
        private static let slice: Duration = .milliseconds(100)

        private func stopIfCancelled(waitingFor what: String) throws {
            if Task.isCancelled { throw failure("the test was cancelled (time limit) while waiting for \(what)") }
        }

        private func failure(_ message: String, backtraces: String? = nil) -> PseudoTerminalError {
            state.withLock { state in
                _ = drain(&state)
                return PseudoTerminalError(
                    message,
                    screen: state.screen,
                    recentOutput: Self.visible(state.output.suffix(600)),
                    backtraces: backtraces
                )
            }
        }

        /// The backtraces of every thread of `pid`, from gdb (installed by `make test`), or why there
        /// are none. Bounded: gdb itself gets 20 s.
        private static func backtraces(of pid: pid_t) -> String {
            let gdb = Process()
            gdb.executableURL = URL(fileURLWithPath: "/usr/bin/gdb")
            gdb.arguments = ["-p", String(pid), "-batch", "-nx", "-ex", "thread apply all bt 12"]
            let output = Pipe()
            gdb.standardOutput = output
            gdb.standardError = FileHandle.nullDevice
            do { try gdb.run() } catch { return "(no backtraces: \(error))" }
            let watchdog = DispatchWorkItem { if gdb.isRunning { gdb.terminate() } }
            DispatchQueue.global().asyncAfter(deadline: .now() + 20, execute: watchdog)
            let data = output.fileHandleForReading.readDataToEndOfFile()
            gdb.waitUntilExit()
            watchdog.cancel()
            let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
            // Thread headers and frames only: gdb's banner and symbol-loading chatter say nothing.
            return lines.filter { $0.hasPrefix("Thread ") || $0.hasPrefix("#") }.joined(separator: "\n")
        }

        /// Reads all output available now into the screen and transcript, and returns whether the
        /// output has ended (every descriptor of the terminal's slave side is closed).
        private func drain(_ state: inout State) -> Bool {
            guard !state.outputEnded else { return true }
            var buffer = [UInt8](repeating: 0, count: 16 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(masterFD, $0.baseAddress, $0.count) }
                if count > 0 {
                    state.output.append(contentsOf: buffer[0..<count])
                    state.screen.feed(buffer[0..<count])
                    continue
                }
                let error = errno
                if count < 0 && error == EINTR { continue }
                if count < 0 && error == EAGAIN { return false }
                // Linux reports a hung-up master as EIO, after any remaining output.
                state.outputEnded = true
                return true
            }
        }

        private func reapIfExited(_ state: inout State) {
            guard state.exitStatus == nil else { return }
            var status: Int32 = 0
            var result: pid_t
            repeat {
                result = waitpid(pid, &status, WNOHANG)
            } while result < 0 && errno == EINTR
            if result == pid {
                state.exitStatus = Self.decode(status)
            }
        }

        /// A wait status as a shell's `$?`. (The W* macros are not visible to Swift.)
        private static func decode(_ status: Int32) -> Int32 {
            let signal = status & 0x7F
            return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
        }

        private static func milliseconds(until deadline: ContinuousClock.Instant, atMost limit: Duration) -> Int32 {
            let remaining = min(deadline - ContinuousClock.now, limit)
            guard remaining > .zero else { return 0 }
            let (seconds, attoseconds) = remaining.components
            // Rounded up so a wait never ends just short of its deadline.
            return Int32(seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
        }

        private static func visible(_ bytes: ArraySlice<UInt8>) -> String {
            var result = ""
            for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
                switch scalar {
                case "\u{1b}": result += "\\e"
                case "\r": result += "\\r"
                case "\n": result += "\\n"
                case "\t": result += "\\t"
                case "\u{7}": result += "\\a"
                case "\"": result += "\\\""
                case "\\": result += "\\\\"
                default:
                    if scalar.value < 0x20 || scalar.value == 0x7F {
                        result += "\\u{\(String(scalar.value, radix: 16))}"
                    } else {
                        result.unicodeScalars.append(scalar)
                    }
                }
            }
            return result
        }

        private static func childEnvironment(adding extra: [String: String]) -> [String: String] {
            var environment = ["TERM": "xterm-256color"]
            for name in ["HOME", "PATH"] {
                if let value = getenv(name) {
                    environment[name] = String(cString: value)
                }
            }
            environment.merge(extra) { _, new in new }
            return environment
        }

        /// Spawns the program as a session leader on the terminal at `terminalPath`.
        ///
        /// posix_spawn rather than fork, which is unsafe in a multithreaded process. glibc performs
        /// `POSIX_SPAWN_SETSID` before the file actions, so opening the terminal by name (without
        /// `O_NOCTTY`) as the new session leader makes it the controlling terminal, with the
        /// program's process group in the foreground. (`setsid --ctty` is no help here: it forks
        /// when started as a process group leader, so the pid we hold would be a parent that has
        /// already exited.)
        private static func spawn(
            executable: String,
            arguments: [String],
            environment: [String: String],
            terminalPath: String
        ) throws -> pid_t {
            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            // POSIX_SPAWN_SETSID is a glibc extension Swift's Glibc module does not define.
            let setSessionID: Int32 = 0x80
            let flags = setSessionID | Int32(POSIX_SPAWN_SETSIGMASK) | Int32(POSIX_SPAWN_SETSIGDEF)
            posix_spawnattr_setflags(&attributes, Int16(flags))
            var noSignals = sigset_t()
            sigemptyset(&noSignals)
            posix_spawnattr_setsigmask(&attributes, &noSignals)
            var allSignals = sigset_t()
            sigfillset(&allSignals)
            posix_spawnattr_setsigdefault(&attributes, &allSignals)

            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            // Descriptors the test process did not mark close-on-exec must not reach the program.
            if let closeFrom = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
                typealias AddCloseFrom =
                    @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
                _ = unsafeBitCast(closeFrom, to: AddCloseFrom.self)(&actions, 3)
            }
            posix_spawn_file_actions_addopen(&actions, 0, terminalPath, O_RDWR, 0)
            posix_spawn_file_actions_adddup2(&actions, 0, 1)
            posix_spawn_file_actions_adddup2(&actions, 0, 2)

            let argv = ([executable] + arguments).map { strdup($0) } + [nil]
            let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer {
                argv.forEach { free($0) }
                envp.forEach { free($0) }
            }
            var pid: pid_t = 0
            let result = posix_spawnp(&pid, executable, &actions, &attributes, argv, envp)
            guard result == 0 else {
                throw PseudoTerminalError("cannot start \(executable)", errno: result)
            }
            return pid
        }

        /// A descriptor that becomes readable when the process exits, so waiting for exit needs no
        /// polling. Called before the process can be reaped, so the pid cannot have been reused.
        private static func openPIDFD(_ pid: pid_t) -> Int32 {
            guard let symbol = dlsym(nil, "pidfd_open") else { return -1 }
            typealias PIDFDOpen = @convention(c) (pid_t, UInt32) -> Int32
            return unsafeBitCast(symbol, to: PIDFDOpen.self)(pid, 0)
        }
    }
#endif
