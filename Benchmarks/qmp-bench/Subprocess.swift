import Glibc
import Foundation

/// What a finished child process did and cost.
struct SubprocessResult: Sendable {
    /// The exit status, or `nil` if a signal ended the process (see ``signal``).
    let exitStatus: Int32?
    /// The signal that ended the process, if one did.
    let signal: Int32?
    /// Standard output, whole; empty when the caller asked for it only to be counted.
    let standardOutput: [UInt8]
    /// How many bytes and lines (`\n`) the child wrote to standard output, kept or not.
    let outputByteCount: Int
    let outputLineCount: Int
    let standardError: [UInt8]
    /// From just before the spawn to the moment the process was reaped.
    let wallSeconds: Double
    /// The moment the process was reaped, to time a span that starts elsewhere (a server's flood).
    let reapedAt: ContinuousClock.Instant
    /// The peak resident set size of the program the child ran, in bytes.
    let peakRSSBytes: Double
    /// Whether ``peakRSSBytes`` is the program's own peak (read at its exit through ptrace). When
    /// false it is `wait4`'s `ru_maxrss`, which counts the bench's own peak too (see ``ExitTracer``)
    /// and is only an upper bound.
    let peakRSSIsExact: Bool
    /// Whether the harness killed the process for running past its timeout.
    let timedOut: Bool

    var succeeded: Bool { exitStatus == 0 && !timedOut }

    var outputText: String { String(decoding: standardOutput, as: UTF8.self) }
    var errorText: String { String(decoding: standardError, as: UTF8.self) }

    /// "exited with status 2", "was killed by signal 9", "timed out", for error messages.
    var outcomeDescription: String {
        if timedOut { return "timed out" }
        if let signal { return "was killed by signal \(signal)" }
        return "exited with status \(exitStatus ?? -1)"
    }
}

/// Runs a child process and measures its wall time and peak memory, for the comparisons that
/// time or weigh a whole program (start-up, peak RSS, replaying a script).
///
/// Spawned with `posix_spawn` and reaped with `wait4` rather than Foundation's `Process`, which
/// reaps its children itself and so loses their resource usage. The child gets only descriptors
/// 0-2; its standard output and error are captured whole.
enum Subprocess {
    /// Runs `executable` (searched in `PATH` when it has no `/`) with `arguments`, feeding it `input`
    /// on standard input, killing it after `timeout`. Blocks threads of its own, not the caller's.
    /// With `keepOutput` false, standard output is drained and counted but not kept.
    /// `onStandardError` sees standard error as it arrives (to learn that the child is ready), on a
    /// thread of the harness's.
    static func run(
        _ executable: String, _ arguments: [String], input: [UInt8] = [],
        environment: [String: String]? = nil, timeout: Duration = .seconds(600), keepOutput: Bool = true,
        onStandardError: (@Sendable ([UInt8]) -> Void)? = nil
    ) async throws -> SubprocessResult {
        try await withCheckedThrowingContinuation { continuation in
            // This thread spawns, traces and reaps the child: ptrace wants one thread for all three.
            let thread = Thread {
                continuation.resume(
                    with: Result {
                        try runBlocking(
                            executable, arguments, input: input, environment: environment, timeout: timeout,
                            keepOutput: keepOutput, onStandardError: onStandardError)
                    })
            }
            thread.start()
        }
    }

    /// The blocking work of ``run(_:_:input:environment:timeout:keepOutput:onStandardError:)``.
    static func runBlocking(
        _ executable: String, _ arguments: [String], input: [UInt8], environment: [String: String]?,
        timeout: Duration, keepOutput: Bool, onStandardError: (@Sendable ([UInt8]) -> Void)? = nil
    ) throws -> SubprocessResult {
        let stdinPipe = try makePipe()
        let stdoutPipe = try makePipe()
        let stderrPipe = try makePipe()

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe.read, 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe.write, 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe.write, 2)
        // Descriptors the bench opened without O_CLOEXEC (the fake server's sockets) stay here.
        _ = closeFrom3?(&actions, 3)

        // A clean signal state: nothing blocked, SIGPIPE back to its default.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = CStringArray([executable] + arguments)
        let envp = CStringArray(
            (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" })

        let start = ContinuousClock.now
        var pid: pid_t = 0
        // glibc's posix_spawn returns once the child has exec'd (or failed to).
        let spawned =
            executable.contains("/")
            ? posix_spawn(&pid, executable, &actions, &attributes, argv.pointers, envp.pointers)
            : posix_spawnp(&pid, executable, &actions, &attributes, argv.pointers, envp.pointers)
        close(stdinPipe.read)
        close(stdoutPipe.write)
        close(stderrPipe.write)
        guard spawned == 0 else {
            close(stdinPipe.write)
            close(stdoutPipe.read)
            close(stderrPipe.read)
            throw BenchError("could not start \(executable): \(String(cString: strerror(spawned)))")
        }
        let traced = ExitTracer.seize(pid)

        let pump = PipePump(
            pid: pid, input: input, stdin: stdinPipe.write, stdout: stdoutPipe.read, stderr: stderrPipe.read,
            deadline: start + timeout, keepOutput: keepOutput, onStandardError: onStandardError)
        pump.start()

        var status: Int32 = 0
        var usage = rusage()
        var tracedPeak: Double?
        while true {
            let reaped = wait4(pid, &status, 0x4000_0000 /* __WALL */, &usage)
            if reaped < 0 {
                if errno == EINTR { continue }
                throw BenchError("wait4 failed: \(String(cString: strerror(errno)))")
            }
            guard ExitTracer.isStop(status) else { break }
            if case .exiting(let peak) = ExitTracer.handleStop(pid, status: status) { tracedPeak = peak }
        }
        let reapedAt = ContinuousClock.now
        let wall = Stopwatch.seconds(reapedAt - start)
        let (output, outputBytes, outputLines, errors, timedOut) = pump.finish()

        // Decoded by hand: the W* macros are not visible from Swift.
        let signal = status & 0x7F
        return SubprocessResult(
            exitStatus: signal == 0 ? (status >> 8) & 0xFF : nil,
            signal: signal == 0 ? nil : signal,
            standardOutput: output, outputByteCount: outputBytes, outputLineCount: outputLines,
            standardError: errors, wallSeconds: wall, reapedAt: reapedAt,
            peakRSSBytes: tracedPeak ?? Double(usage.ru_maxrss) * 1024,  // ru_maxrss is in KiB on Linux
            peakRSSIsExact: traced && tracedPeak != nil,
            timedOut: timedOut)
    }

    /// A pipe whose ends the child does not inherit (only the copies dup2'd onto 0-2).
    /// (`pipe2` is a GNU extension Swift does not see; a concurrent fork elsewhere could inherit
    /// the ends in between, which the harness never does.)
    private static func makePipe() throws -> (read: Int32, write: Int32) {
        var descriptors: [Int32] = [0, 0]
        guard pipe(&descriptors) == 0 else {
            throw BenchError("pipe failed: \(String(cString: strerror(errno)))")
        }
        for descriptor in descriptors { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        return (descriptors[0], descriptors[1])
    }

    private typealias CloseFromFunction =
        @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), looked up at run time because
    /// Swift does not see GNU extensions; `nil` where it is missing, and then the child inherits
    /// whatever descriptors lack O_CLOEXEC.
    private static let closeFrom3: CloseFromFunction? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: CloseFromFunction.self)
    }()
}

/// A NULL-terminated `char *[]` for `posix_spawn`, freed with the value.
private final class CStringArray {
    let pointers: [UnsafeMutablePointer<CChar>?]

    init(_ strings: [String]) {
        pointers = strings.map { strdup($0) } + [nil]
    }

    deinit {
        for pointer in pointers { free(pointer) }
    }
}
