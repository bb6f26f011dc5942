/// Peak memory of `qmp-shell --watch --count N` for N = 100,000 and 1,000,000 events from the
/// flooding fake server (ours only): whether memory stays flat however many events go by.
///
/// Two rows from the same runs: 1M against 100k (the ratio is peak(100k) / peak(1M); the goal,
/// 1M within 1.3x of 100k, is a ratio of at least 1/1.3), and 1M against a fixed 64 MiB budget.
/// Standard output is a pipe the bench drains and counts.
struct WatchMemoryBenchmark: Benchmark {
    let id = "watch-memory"
    let small = 100_000
    let large = 1_000_000
    static let budget = 64.0 * 1_048_576

    func run(in context: BenchContext) async throws -> [Comparison] {
        let smallServer = try EventFloodServer(count: small, trigger: .negotiation)
        defer { smallServer.stop() }
        let largeServer = try EventFloodServer(count: large, trigger: .negotiation)
        defer { largeServer.stop() }
        var notes = Set<String>()
        let sides = ["1M events", "100k events"]
        let samples = try await context.alternate(sides, figures: [.bytes]) { side in
            let (server, count) = side == 0 ? (largeServer, large) : (smallServer, small)
            let result = try await context.runChecked(
                "qmp-shell --watch --count \(count)", context.ourShell,
                ["--watch", "--count", String(count), server.path], keepOutput: false, lines: count,
                timeout: .seconds(300))
            return [result.peak(noting: &notes, "ours")]
        }
        var scaling = Comparison(
            name: "--watch peak RSS, 1M vs 100k events", peer: "ours, 100k events", metric: .bytes,
            goal: 1 / 1.3, ours: samples[0][0], theirs: samples[1][0])
        scaling.notes.append(contentsOf: notes.sorted())
        let budget = Comparison(
            name: "--watch peak RSS, 1M events", peer: "64 MiB budget", metric: .bytes, goal: 1,
            ours: samples[0][0], theirs: Samples(values: [Self.budget]))
        return [scaling, budget]
    }
}
