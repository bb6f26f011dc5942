import Dispatch
import Foundation
import QMPTestSupport

/// What the progress lines cost: the CPU of the interactive shell (ours, as `make install`
/// builds it) in a pseudo-terminal while a backup throttled to 1 MiB/s copies 30 MiB in a real
/// QEMU (about 30 s), its live line redrawn and `query-jobs` polled twice a second; against the
/// same run under `NO_COLOR=1`, where no line is drawn and nothing is polled (the baseline: what
/// the shell spends on the job's events and on waiting).
///
/// The shell starts the job itself, as a user does. Its CPU is `utime + stime` of
/// `/proc/PID/stat` (every thread, in clock ticks), read when the job's reply is on screen and
/// again when its `BLOCK_JOB_COMPLETED` is, over the wall time between the two: a share of one
/// core. Goal: under 1% of a core with the lines drawn.
struct ProgressBenchmark: Benchmark {
    let id = "progress"
    static let megabytes = 30
    static let bytesPerSecond = 1_048_576
    /// The goal, in percent of one core.
    static let goal = 1.0

    /// One run: the shell's share of a core, and how long the job ran.
    struct Run: Sendable {
        var percentOfACore: Double
        var seconds: Double
        var cpuSeconds: Double
    }

    func run(in context: BenchContext) async throws -> [Comparison] {
        let shell = context.ourShell
        let sides = ["progress lines", "NO_COLOR=1"]
        var runs: [[Run]] = [[], []]
        let samples = try await context.alternate(sides, figures: [.coreShare]) { side in
            let run = try await Self.onThread { try Self.measure(shell: shell, lines: side == 0) }
            runs[side].append(run)
            return [run.percentOfACore]
        }
        let (lines, baseline) = (samples[0][0], samples[1][0])
        var row = Comparison(
            name: "progress lines: shell CPU during a 30 s job", peer: "same, NO_COLOR=1 (no lines)",
            metric: .coreShare, goal: nil, ours: lines, theirs: baseline)
        let jobSeconds = Samples(values: runs.flatMap { $0.map(\.seconds) })
        row.notes.append(
            "the lines cost \(Metric.coreShare.format(lines.median - baseline.median)) of a core over the baseline"
                + " (medians); CPU \(Self.cpu(runs[0])) with the lines, \(Self.cpu(runs[1])) without, over jobs of"
                + " \(Format.fixed(jobSeconds.min, digits: 1))-\(Format.fixed(jobSeconds.max, digits: 1)) s"
                + " (a backup of \(Self.megabytes) MiB at 1 MiB/s in QEMU -M none; utime + stime in clock ticks"
                + " of \(Format.fixed(1000 / Double(sysconf(Int32(_SC_CLK_TCK))), digits: 0)) ms)")
        let goal = Comparison(
            name: "progress lines: shell CPU during a 30 s job", peer: "goal: 1% of a core", metric: .coreShare,
            goal: 1, ours: lines, theirs: Samples(values: [Self.goal]))
        return [row, goal]
    }

    /// The median CPU seconds of `runs`, formatted.
    private static func cpu(_ runs: [Run]) -> String {
        Metric.seconds.format(Samples(values: runs.map(\.cpuSeconds)).median)
    }

    /// Runs `body` on a thread of its own: the terminal's waits block in poll(2) for half a minute.
    private static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// One job in a fresh QEMU, watched by the shell in a pseudo-terminal, with its progress
    /// lines or (`lines` false) under `NO_COLOR=1`.
    static func measure(shell: String, lines: Bool) throws -> Run {
        let qemu = try QEMUInstance()
        defer { qemu.kill() }
        let home = try TemporaryDirectory(prefix: "qmp-bench-home")
        let source = qemu.directory.file("source.raw")
        guard
            FileManager.default.createFile(
                atPath: source, contents: Data(repeating: 0xAB, count: megabytes << 20))
        else { throw BenchError("cannot write \(source)") }
        var environment = ["HOME": home.path]
        if !lines { environment["NO_COLOR"] = "1" }
        let terminal = try PseudoTerminalSession(
            executable: shell, arguments: [qemu.socketPath], environment: environment, columns: 120, rows: 40)
        defer { terminal.terminate() }
        try terminal.waitForText("(QEMU) ")
        try run("blockdev-add driver=file node-name=src filename=\(source)", in: terminal)
        try run("blockdev-add driver=null-co node-name=sink size=\(megabytes << 20)", in: terminal)
        try run(
            "blockdev-backup job-id=bk device=src target=sink sync=full speed=\(bytesPerSecond)", in: terminal)
        let (startTicks, started) = (try cpuTicks(of: terminal.pid), ContinuousClock.now)
        try terminal.waitForOutput(containing: "BLOCK_JOB_COMPLETED", timeout: .seconds(120))
        let (endTicks, ended) = (try cpuTicks(of: terminal.pid), ContinuousClock.now)
        let drawn = terminal.transcript.contains("bk backup  [")
        guard drawn == lines else {
            throw BenchError("the progress line was \(drawn ? "" : "not ")drawn \(lines ? "with" : "under NO_COLOR=1")")
        }
        terminal.send("\u{4}")
        _ = try terminal.waitForExit(timeout: .seconds(10))
        let seconds = Double((ended - started) / .milliseconds(1)) / 1000
        let cpuSeconds = Double(endTicks - startTicks) / Double(sysconf(Int32(_SC_CLK_TCK)))
        return Run(percentOfACore: 100 * cpuSeconds / seconds, seconds: seconds, cpuSeconds: cpuSeconds)
    }

    /// Types `line` and waits for its reply (one more `{"return"` in the output).
    private static func run(_ line: String, in terminal: PseudoTerminalSession) throws {
        let before = terminal.transcript.components(separatedBy: #"{"return""#).count
        terminal.send(line + "\r")
        try terminal.waitForScreen(timeout: .seconds(30)) { _ in
            terminal.transcript.components(separatedBy: #"{"return""#).count > before
        }
    }

    /// `utime + stime` of process `pid`, every thread's (fields 14 and 15 of `/proc/PID/stat`).
    static func cpuTicks(of pid: pid_t) throws -> Int {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { throw BenchError("cannot read /proc/\(pid)/stat") }
        // After the command's closing parenthesis: field 3 (state) onwards.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else {
            throw BenchError("unexpected /proc/\(pid)/stat: \(stat)")
        }
        return user + system
    }
}
