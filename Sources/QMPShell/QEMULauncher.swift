import ShellSystem
import CProcess

import Glibc
import QMP

/// `--launch`: starts QEMU with its QMP monitor on one end of a socket pair whose other end is
/// ours, and stops it again, leaving no process and no file behind.
///
/// No file is involved: the monitor is `-chardev socket,fd=3` on an inherited, already connected
/// socket, and QEMU's standard error goes to an anonymous file, read back when it fails to
/// start. QEMU runs in a session of its own, so Ctrl-C in the shell never reaches it, and is
/// bound to the shell: whatever ends the shell, SIGKILL included, kills QEMU too (see
/// `qmpshell_bound_child_start`).
public final class QEMULauncher {
    /// Our end of the socket pair, until ``connect(_:timeout:)`` hands it to the client.
    private var socket: Int32
    /// QEMU's end, until QEMU has it.
    private var qemuSocket: Int32
    private let errorFile: Int32
    private let child = UnsafeMutablePointer<qmpshell_bound_child>.allocate(capacity: 1)
    private var started = false
    public private(set) var pid: pid_t = 0

    /// Makes the socket pair and the file for QEMU's error output.
    public init() throws(ShellError) {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw ShellError.system("cannot make a socket pair")
        }
        let errorFile = qmpshell_anonymous_file("qemu-stderr")
        guard errorFile >= 0 else {
            let message = errnoText()
            close(pair[0])
            close(pair[1])
            throw ShellError("cannot make a file for QEMU's errors: \(message)")
        }
        socket = pair[0]
        qemuSocket = pair[1]
        self.errorFile = errorFile
    }

    deinit {
        if socket >= 0 { close(socket) }
        if qemuSocket >= 0 { close(qemuSocket) }
        close(errorFile)
        // The thread waiting for QEMU writes to `child` until QEMU has exited.
        var status: Int32 = 0
        if !started || qmpshell_bound_child_exited(child, &status) != 0 { child.deallocate() }
    }

    /// Starts `command` (a QEMU command line) with its monitor on our socket pair.
    public func start(_ command: [String]) throws(ShellError) {
        guard let program = command.first else { throw ShellError("--launch needs a QEMU command line after --") }
        guard let path = Self.executablePath(program) else {
            throw ShellError.system("cannot start \(program)", code: ENOENT)
        }
        let arguments = command + ["-chardev", "socket,id=qmp-shell,fd=3", "-mon", "chardev=qmp-shell,mode=control"]
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { if null >= 0 { close(null) } }
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let result = argv.withUnsafeBufferPointer { argv in
            qmpshell_bound_child_start(child, path, argv.baseAddress, environ, null, null, errorFile, qemuSocket)
        }
        guard result == 0 else {
            throw ShellError.system("cannot start \(program)", code: result)
        }
        started = true
        pid = child.pointee.pid
        close(qemuSocket)
        qemuSocket = -1
    }

    /// `program` if it names a path, else the first executable of that name in `PATH`.
    private static func executablePath(_ program: String) -> String? {
        if program.contains("/") { return program }
        let directories = (getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin")
        for directory in directories.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + program
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Waits for QEMU's greeting and hands the connection to `client`. If QEMU exits first, the
    /// error says so with QEMU's own message.
    public func connect(_ client: QMPClient, timeout: Duration = .seconds(30)) async throws(ShellError) {
        let deadline = ContinuousClock.now + timeout
        // Wait in short slices so a QEMU that dies at start is noticed at once.
        while true {
            if let status = exitStatus() {
                throw ShellError("QEMU exited at start (\(Self.describe(status)))\(qemuErrorText())")
            }
            if ContinuousClock.now >= deadline {
                throw ShellError("QEMU did not connect within \(timeout)\(qemuErrorText())")
            }
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            if poll(&descriptor, 1, 50) > 0 {
                var byte: UInt8 = 0
                if recv(socket, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) == 1 { break }
                // Closed without a greeting: QEMU is exiting; the next turn says how.
                _ = await waitForExit(within: .seconds(5))
            }
        }
        let socket = self.socket
        self.socket = -1
        do {
            try await client.connect(connectedSocket: socket)
        } catch {
            throw ShellError("\(error)\(qemuErrorText())", underlying: error)
        }
    }

    /// QEMU's wait status if it has exited.
    private func exitStatus() -> Int32? {
        guard started else { return nil }
        var status: Int32 = 0
        return qmpshell_bound_child_exited(child, &status) != 0 ? status : nil
    }

    private static func describe(_ status: Int32) -> String {
        let signal = status & 0x7F
        return signal == 0 ? "status \((status >> 8) & 0xFF)" : "killed by signal \(signal)"
    }

    /// ": <what QEMU printed>" or "".
    private func qemuErrorText() -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 65536 {
            let count = chunk.withUnsafeMutableBytes { pread(errorFile, $0.baseAddress, $0.count, off_t(bytes.count)) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes += chunk[..<count]
        }
        let text = String(decoding: bytes, as: UTF8.self).split(separator: "\n").filter { !$0.isEmpty }
            .joined(separator: "\n")
        return text.isEmpty ? "" : ": " + text
    }

    /// Asks QEMU to quit through `client` (if connected), waits a little, then terminates it.
    ///
    /// The `quit` is not awaited: a QEMU that never answers (stopped in a debugger) would hold the
    /// shell forever. Its exit is what is waited for, 5 s, then SIGTERM, then SIGKILL (which also
    /// ends a stopped process); the `quit` fails on its own once the connection closes.
    public func stop(_ client: QMPClient?) async {
        if let client, client.runstate == .running {
            Task { _ = try? await client.execute("quit") }
        }
        guard started else { return }
        if !(await waitForExit(within: .seconds(5))) {
            kill(pid, SIGTERM)
            if !(await waitForExit(within: .seconds(3))) {
                kill(pid, SIGKILL)
                _ = await waitForExit(within: .seconds(5))
            }
        }
    }

    private func waitForExit(within timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if exitStatus() != nil { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return exitStatus() != nil
    }
}
