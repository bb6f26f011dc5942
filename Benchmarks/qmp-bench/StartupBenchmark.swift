import QMPTestSupport

/// Start-up plus one command against a real QEMU: `qmp-shell -c query-version SOCKET` (ours)
/// against Python's `qmp-shell SOCKET` with `query-version` on its standard input (it reads
/// commands from a pipe as from a terminal, prompts included, and leaves at end of input).
///
/// Each run is the whole program, from the spawn to the reaping: start-up, connect, greeting,
/// `qmp_capabilities`, the command, printing, exit. Two rows from the same runs: wall time and
/// the program's exact peak RSS (``ExitTracer``). One untimed warm-up run of each side first.
/// QEMU's monitor serves one client at a time and each run waits for the previous to exit, so
/// both sides talk to the same QEMU.
struct StartupBenchmark: Benchmark {
    let id = "startup"

    func run(in context: BenchContext) async throws -> [Comparison] {
        let qemu = try QEMUInstance()
        defer { qemu.kill() }
        let peer = "Python qmp-shell"
        let python = context.venvProgram("qmp-shell")
        var notes = Set<String>()
        let samples = try await context.alternate(["ours", peer], figures: [.seconds, .bytes], warmup: 1) { side in
            let result: SubprocessResult
            if side == 0 {
                result = try await context.runChecked(
                    "qmp-shell -c query-version", context.ourShell, ["-c", "query-version", qemu.socketPath])
            } else {
                result = try await context.runChecked(
                    "Python qmp-shell", python, [qemu.socketPath], input: Array("query-version\n".utf8))
            }
            guard result.outputText.contains(#""qemu""#) else {
                let who = side == 0 ? "ours" : peer
                throw BenchError("\(who) printed no version:\n\(BenchContext.tail(result.outputText))")
            }
            return [result.wallSeconds, result.peak(noting: &notes, side == 0 ? "ours" : peer)]
        }
        var time = Comparison(
            name: "start-up + query-version, wall time", peer: peer, metric: .seconds, goal: 10,
            ours: samples[0][0], theirs: samples[1][0])
        var memory = Comparison(
            name: "start-up + query-version, peak RSS", peer: peer, metric: .bytes, goal: 2,
            ours: samples[0][1], theirs: samples[1][1])
        time.notes.append(
            "whole programs against the same real QEMU (-M none), one after the other; 1 warm-up run each;"
                + " ours: \(context.ourShell)")
        memory.notes.append(contentsOf: notes.sorted())
        return [time, memory]
    }
}
