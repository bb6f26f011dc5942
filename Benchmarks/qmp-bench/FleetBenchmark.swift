import Glibc
import QMPTestSupport

/// `query-status` on 100 real QEMUs (`-M none`): ours in one run (`qmp-shell -c query-status
/// SOCK...`) against a loop of ours one VM at a time, a loop of Python's `qmp-shell`, ours on
/// one QEMU alone, and the raw limit: a C client doing the least there is to do on the same 100
/// sockets at once (`Benchmarks/raw_fleet.c`: one thread, poll(2), no parsing); then peak memory
/// per extra target, with 100 QEMUs and with 1,000 fake servers (all connected at once:
/// `--parallel` as large as the fleet, the worst case for memory).
struct FleetBenchmark: Benchmark {
    let id = "fleet"
    let fleetSize = 100
    let fakeFleetSize = 1_000
    /// The goal: under 100 KiB per target beyond the first.
    static let perTargetBudget = 100.0 * 1024

    func run(in context: BenchContext) async throws -> [Comparison] {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        context.log("  starting \(fleetSize) QEMUs")
        let qemus = try (0..<fleetSize).map { _ in try QEMUInstance() }
        defer { qemus.forEach { $0.kill() } }
        let sockets = qemus.map(\.socketPath)
        let python = context.venvProgram("qmp-shell")
        guard let rawClient = context.options.rawFleetClient else {
            throw BenchError("needs --raw-fleet-client: run it through Benchmarks/run.sh, which compiles the C client")
        }
        let sides = [
            "ours, 100 in one run", "ours, 1 QEMU", "ours, a loop of 100", "Python qmp-shell, a loop of 100",
            "raw C client, 100 in one run",
        ]
        var notes = Set<String>()
        let samples = try await context.alternate(sides, figures: [.seconds, .bytes], warmup: 1) { side in
            let started = ContinuousClock.now
            var peak = 0.0
            switch side {
            case 0, 1:
                let targets = side == 0 ? sockets : [sockets[0]]
                let result = try await context.runChecked(
                    "qmp-shell -c query-status (\(targets.count))", context.ourShell,
                    ["--parallel", String(targets.count), "-c", "query-status"] + targets, lines: targets.count)
                try Self.checkRunning(result, count: targets.count, who: sides[side])
                peak = result.peak(noting: &notes, "ours")
            case 4:
                let result = try await context.runChecked("raw_fleet (100)", rawClient, sockets, lines: sockets.count)
                try Self.checkRunning(result, count: sockets.count, who: sides[side])
            case 2:
                for socket in sockets {
                    let result = try await context.runChecked(
                        "qmp-shell -c query-status", context.ourShell, ["-c", "query-status", socket], lines: 1)
                    try Self.checkRunning(result, count: 1, who: sides[side])
                }
            default:
                for socket in sockets {
                    let result = try await context.runChecked(
                        "Python qmp-shell", python, [socket], input: Array("query-status\n".utf8))
                    try Self.checkRunning(result, count: 1, who: sides[side])
                }
            }
            return [(ContinuousClock.now - started).seconds, peak]
        }
        var versusPython = Comparison(
            name: "query-status on 100 QEMUs, wall time", peer: "Python qmp-shell, one VM after another",
            metric: .seconds, goal: 50, ours: samples[0][0], theirs: samples[3][0])
        versusPython.notes.append(
            "100 real QEMUs (-M none); ours: one process, --parallel 100; the loops: one process per VM;"
                + " 1 warm-up run each")
        let loop = Comparison(
            name: "query-status on 100 QEMUs, wall time", peer: "ours, one VM after another", metric: .seconds,
            goal: nil, ours: samples[0][0], theirs: samples[2][0])
        let alone = Comparison(
            name: "query-status on 100 QEMUs vs on 1, wall time", peer: "ours on 1 QEMU", metric: .seconds,
            goal: 1.0 / 3, ours: samples[0][0], theirs: samples[1][0])
        var rawLimit = Comparison(
            name: "query-status on 100 QEMUs vs the raw limit, wall time", peer: "raw C client on 100 at once",
            metric: .seconds, goal: nil, ours: samples[0][0], theirs: samples[4][0])
        rawLimit.notes.append("raw C client: Benchmarks/raw_fleet.c, every socket at once, poll(2), no JSON parsing")
        // Whether the goal against one QEMU is within reach at all: the raw client on 100 against
        // ours on 1.
        let limitVersusAlone = Comparison(
            name: "raw limit on 100 QEMUs vs ours on 1, wall time", peer: "ours on 1 QEMU", metric: .seconds,
            goal: nil, ours: samples[4][0], theirs: samples[1][0])
        var realMemory = Comparison(
            name: "peak RSS per extra target, 100 QEMUs", peer: "100 KiB budget", metric: .bytes, goal: 1,
            ours: Self.perExtraTarget(samples[0][1], samples[1][1], targets: fleetSize),
            theirs: Samples(values: [Self.perTargetBudget]))
        realMemory.notes.append(contentsOf: notes.sorted())
        let fakeMemory = try await fakeFleetMemory(in: context)
        return [versusPython, loop, alone, rawLimit, limitVersusAlone, realMemory, fakeMemory]
    }

    /// Peak RSS of a run on 1,000 fake servers against a run on 1, per target beyond the first.
    private func fakeFleetMemory(in context: BenchContext) async throws -> Comparison {
        let fakes = try ManyFakeQMPServers(count: fakeFleetSize)
        defer { fakes.stop() }
        var notes = Set<String>()
        let samples = try await context.alternate(["1,000 fakes", "1 fake"], figures: [.bytes]) { side in
            let targets = side == 0 ? fakes.paths : [fakes.paths[0]]
            let result = try await context.runChecked(
                "qmp-shell -c query-status (\(targets.count) fakes)", context.ourShell,
                ["--parallel", String(targets.count), "-c", "query-status"] + targets, lines: targets.count)
            try Self.checkRunning(result, count: targets.count, who: "ours")
            return [result.peak(noting: &notes, "ours")]
        }
        var row = Comparison(
            name: "peak RSS per extra target, 1,000 fake servers", peer: "100 KiB budget", metric: .bytes, goal: 1,
            ours: Self.perExtraTarget(samples[0][0], samples[1][0], targets: fakeFleetSize),
            theirs: Samples(values: [Self.perTargetBudget]))
        row.notes.append(contentsOf: notes.sorted())
        row.notes.append(
            "1,000: \(Metric.bytes.format(samples[0][0].median)), 1: \(Metric.bytes.format(samples[1][0].median))"
                + " (medians); all connected at once (--parallel 1000)")
        return row
    }

    /// (peak with `targets` - peak with 1) / (`targets` - 1), run by run.
    static func perExtraTarget(_ many: Samples, _ one: Samples, targets: Int) -> Samples {
        Samples(values: zip(many.values, one.values).map { ($0 - $1) / Double(targets - 1) })
    }

    /// Throws unless `result`'s output shows `count` running VMs.
    static func checkRunning(_ result: SubprocessResult, count: Int, who: String) throws {
        let running =
            result.outputText.components(separatedBy: #""status": "running""#).count - 1
            + result.outputText.components(separatedBy: #""status":"running""#).count - 1
        guard running == count else {
            throw BenchError(
                "\(who): \(running) running VMs in the output, not \(count):\n\(BenchContext.tail(result.outputText))")
        }
    }
}

extension Duration {
    /// The duration in seconds.
    fileprivate var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
