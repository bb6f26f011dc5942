import Glibc

/// Reads a child's peak memory at the last moment, when it is about to exit, through ptrace.
///
/// `wait4`'s `ru_maxrss` alone is wrong for a child of a big process: at `execve` Linux folds the
/// *old* address space's peak into the child's `maxrss`, and a `posix_spawn`ed (vfork) or forked
/// child's old address space is the bench's own, so `ru_maxrss` is at least the bench's peak RSS
/// (tens of MiB here), whatever the child really used. The peak of the program the child runs is
/// its `VmHWM` after the exec, readable in `/proc/PID/status` until the process lets go of its
/// memory. `PTRACE_O_TRACEEXIT` stops the child just before that; we read `VmHWM` and detach.
///
/// ptrace is per thread: the thread that calls ``seize(_:)`` must call ``handleStop(_:status:)``.
/// Where ptrace is unavailable (other systems, `kernel.yama.ptrace_scope=3`, a seccomp filter),
/// ``seize(_:)`` returns false and callers fall back to `ru_maxrss`.
enum ExitTracer {
    /// What a ptrace stop meant.
    enum Stop {
        /// The child is about to exit; its peak RSS in bytes, if `/proc` could tell.
        case exiting(peakRSSBytes: Double?)
        /// Any other stop (a signal on its way to the child); it was resumed.
        case other
    }

    // Linux's numbers, the same on every architecture.
    private static let ptraceSeize: Int32 = 0x4206
    private static let ptraceContinue: Int32 = 7
    private static let ptraceDetach: Int32 = 17
    private static let optionTraceExit = 0x40
    private static let eventExit: Int32 = 6

    private typealias PtraceFunction =
        @convention(c) (Int32, pid_t, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int

    /// glibc's `ptrace`, which Swift does not import because C declares it variadic. Called with all
    /// four arguments in integer registers, which is how the variadic version reads them too.
    private static let ptrace: PtraceFunction? = {
        #if os(Linux)
            guard let symbol = dlsym(nil, "ptrace") else { return nil }
            return unsafeBitCast(symbol, to: PtraceFunction.self)
        #else
            return nil
        #endif
    }()

    /// Starts tracing `pid` (without stopping it) so that it stops once more before exiting.
    static func seize(_ pid: pid_t) -> Bool {
        guard let ptrace else { return false }
        return ptrace(ptraceSeize, pid, nil, UnsafeMutableRawPointer(bitPattern: optionTraceExit)) == 0
    }

    /// Whether a `wait4` status is a stop rather than an exit.
    static func isStop(_ status: Int32) -> Bool { status & 0xFF == 0x7F }

    /// Handles a stop of a seized child: at the exit stop, reads the peak and detaches; otherwise
    /// passes on the signal that stopped it and lets it run on.
    static func handleStop(_ pid: pid_t, status: Int32) -> Stop {
        guard let ptrace else { return .other }
        if status >> 8 == SIGTRAP | eventExit << 8 {
            let peak = peakRSS(of: pid)
            _ = ptrace(ptraceDetach, pid, nil, nil)
            return .exiting(peakRSSBytes: peak)
        }
        // A signal-delivery stop carries the signal to deliver; a group stop (event in the high
        // bits) carries none we should pass on.
        let signal = status >> 16 == 0 ? Int((status >> 8) & 0xFF) : 0
        _ = ptrace(ptraceContinue, pid, nil, UnsafeMutableRawPointer(bitPattern: signal))
        return .other
    }

    /// `VmHWM` from `/proc/PID/status`, in bytes.
    static func peakRSS(of pid: pid_t) -> Double? {
        let descriptor = open("/proc/\(pid)/status", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(descriptor, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[..<count])
        }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first
                .flatMap({ Double($0) })
        else { return nil }
        return kilobytes * 1024
    }
}
