#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import QMP

/// `--launch`: starts QEMU with a QMP monitor that connects to a private socket of ours, and stops
/// it again, leaving no process and no file behind.
///
/// QEMU runs in a session of its own, so Ctrl-C in the shell never reaches it. Its standard error
/// goes to a file in the private directory, read back when it fails to start.
public final class QEMULauncher {
    /// The private directory (0700) holding the socket and QEMU's error output.
    public let directory: String
    public let socketPath: String
    private let errorPath: String
    private let listener: QMPSocketListener
    public private(set) var pid: pid_t = 0
    private var exited = false
    private var exitStatus: Int32 = 0

    /// Makes the private directory and listens on its socket.
    public init() throws(ShellError) {
        var template = Array("/tmp/qmp-shell-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw ShellError("cannot make a private directory: \(String(cString: strerror(errno)))")
        }
        directory = String(cString: made)
        socketPath = directory + "/qmp.sock"
        errorPath = directory + "/qemu-stderr.txt"
        do {
            listener = try QMPSocketListener(path: socketPath)
        } catch {
            rmdir(directory)
            throw ShellError("cannot listen on \(socketPath): \(error)")
        }
    }

    /// Starts `command` (a QEMU command line) with `-qmp unix:SOCKET` added.
    public func start(_ command: [String]) throws(ShellError) {
        guard let program = command.first else { throw ShellError("--launch needs a QEMU command line after --") }
        let arguments = command + ["-qmp", "unix:\(socketPath)"]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        // POSIX_SPAWN_SETSID (0x80, not exported to Swift): a new session, away from our terminal.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | 0x80))
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let result = posix_spawnp(&child, program, &actions, &attributes, &argv, environ)
        guard result == 0 else {
            throw ShellError("cannot start \(program): \(String(cString: strerror(result)))")
        }
        pid = child
    }

    /// Waits for QEMU to connect and hands the connection to `client`. If QEMU exits first, the
    /// error says so with QEMU's own message.
    public func connect(_ client: QMPClient, timeout: Duration = .seconds(30)) async throws(ShellError) {
        let deadline = ContinuousClock.now + timeout
        // Accept in short slices so a QEMU that dies at start is noticed at once.
        while true {
            if let status = reap() {
                throw ShellError("QEMU exited at start (\(Self.describe(status)))\(qemuErrorText())")
            }
            if ContinuousClock.now >= deadline {
                throw ShellError("QEMU did not connect within \(timeout)\(qemuErrorText())")
            }
            if listenerHasConnection() { break }
        }
        do {
            try await client.accept(from: listener, timeout: .seconds(5))
        } catch {
            throw ShellError("\(error)\(qemuErrorText())")
        }
        listener.close()
    }

    private func listenerHasConnection() -> Bool {
        var descriptor = pollfd(fd: listener.descriptorForPolling, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 50) > 0
    }

    /// QEMU's exit status if it has exited (reaping it once).
    private func reap() -> Int32? {
        if exited { return exitStatus }
        guard pid > 0 else { return nil }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid {
            exited = true
            exitStatus = status
            return status
        }
        return nil
    }

    private static func describe(_ status: Int32) -> String {
        let signal = status & 0x7F
        return signal == 0 ? "status \((status >> 8) & 0xFF)" : "killed by signal \(signal)"
    }

    /// ": <what QEMU printed>" or "".
    private func qemuErrorText() -> String {
        guard let lines = try? ArrayLineSource.lines(ofFile: errorPath) else { return "" }
        let text = lines.filter { !$0.isEmpty }.joined(separator: "\n")
        return text.isEmpty ? "" : ": " + text
    }

    /// Asks QEMU to quit through `client` (if connected), waits a little, then terminates it, and
    /// removes the private directory.
    public func stop(_ client: QMPClient?) async {
        if let client, client.runstate == .running {
            _ = try? await client.execute("quit")
        }
        if pid > 0 {
            if !(await waitForExit(within: .seconds(5))) {
                kill(pid, SIGTERM)
                if !(await waitForExit(within: .seconds(3))) {
                    kill(pid, SIGKILL)
                    _ = await waitForExit(within: .seconds(5))
                }
            }
        }
        listener.close()
        unlink(errorPath)
        unlink(socketPath)
        rmdir(directory)
    }

    private func waitForExit(within timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if reap() != nil { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return reap() != nil
    }
}
