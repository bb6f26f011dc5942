import Foundation
import QMPTestSupport

/// Replaying a script of 5,000 `query-status` lines against a real QEMU, in commands per second:
/// `qmp-shell -f FILE SOCKET` (ours) against raw lock-step socket clients, which send each command
/// and read to the reply's line end, no parsing: in C (`Benchmarks/raw_lockstep.c`, compiled by
/// `Benchmarks/run.sh` and given as `--raw-client`; it prints each reply, block-buffered), which
/// is what QEMU allows one client to reach, and in Python (`Benchmarks/peers/raw_lockstep.py`); and
/// against Python's `qmp-shell` with the same lines on its standard input.
///
/// Each figure is 5,000 over the whole program's wall time (start-up included, for every side);
/// every side but the Python raw client must print one reply line per command (Python's shell adds
/// its banner).
struct ReplayBenchmark: Benchmark {
    let id = "replay"
    let commandCount = 5_000

    func run(in context: BenchContext) async throws -> [Comparison] {
        let qemu = try QEMUInstance()
        defer { qemu.kill() }
        let directory = try TemporaryDirectory(prefix: "qmp-bench")
        let script = directory.file("replay.qmp")
        let lines = String(repeating: "query-status\n", count: commandCount)
        try lines.write(toFile: script, atomically: false, encoding: .utf8)
        let python = context.venvProgram("qmp-shell")
        guard let rawClient = context.options.rawClient else {
            throw BenchError("needs --raw-client: run it through Benchmarks/run.sh, which compiles the C client")
        }
        let sides = ["ours", "raw C client", "raw Python client", "Python qmp-shell"]
        let rate = Metric.rate("commands/s")
        let count = Double(commandCount)
        let samples = try await context.alternate(sides, figures: [rate], warmup: 1) { side in
            let result: SubprocessResult
            switch side {
            case 0:
                result = try await context.runChecked(
                    "qmp-shell -f", context.ourShell, ["-f", script, qemu.socketPath], lines: commandCount)
            case 1:
                result = try await context.runChecked(
                    "raw_lockstep", rawClient, [qemu.socketPath, script], lines: commandCount)
            case 2:
                result = try await context.runChecked(
                    "raw_lockstep.py", context.options.python,
                    [context.peerScript("raw_lockstep.py"), "--socket", qemu.socketPath, "--file", script], lines: 1)
            default:
                // Banner (3 lines), then one line per reply, then the newline it prints at end of input.
                result = try await context.runChecked(
                    "Python qmp-shell", python, [qemu.socketPath], input: Array(lines.utf8),
                    lines: 3 + commandCount + 1)
            }
            if side != 2, Self.replies(in: result.outputText) != commandCount {
                throw BenchError(
                    "\(sides[side]) printed \(Self.replies(in: result.outputText)) replies, not \(commandCount)")
            }
            return [count / result.wallSeconds]
        }
        var raw = Comparison(
            name: "replay 5,000 commands (-f)", peer: "raw C client", metric: rate, goal: 0.9,
            ours: samples[0][0], theirs: samples[1][0])
        raw.notes.append(
            "commands / whole-program wall time (start-up included) against the same real QEMU (-M none); "
                + "the raw clients are Benchmarks/raw_lockstep.c and Benchmarks/peers/raw_lockstep.py; "
                + "1 warm-up run each")
        let rawPython = Comparison(
            name: "replay 5,000 commands (-f)", peer: "raw Python client", metric: rate, goal: nil,
            ours: samples[0][0], theirs: samples[2][0])
        let shell = Comparison(
            name: "replay 5,000 commands (-f)", peer: "Python qmp-shell", metric: rate, goal: nil,
            ours: samples[0][0], theirs: samples[3][0])
        return [raw, rawPython, shell]
    }

    /// How many `"return"` replies a side printed.
    static func replies(in text: String) -> Int {
        text.split(separator: "\n").count { $0.contains(#""return""#) }
    }
}
