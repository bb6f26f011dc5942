import Glibc

/// A comparison the harness can run. Each benchmark owns its fixture (fake server, QEMU...): it
/// sets it up in ``run(in:)``, measures the sides with ``BenchContext/compare(_:peer:metric:goal:ours:theirs:)``
/// (one figure, two sides) or ``BenchContext/alternate(_:figures:warmup:measure:)`` (several figures
/// or sides from the same runs), tears it down and returns its rows of the table.
protocol Benchmark: Sendable {
    /// A short name for `--only`, e.g. `events`.
    var id: String { get }
    func run(in context: BenchContext) async throws -> [Comparison]
}

/// A benchmark could not measure what it meant to.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// What every benchmark may need: where the peers are, how many runs, where to report progress.
struct BenchContext: Sendable {
    let options: Options

    var runs: Int { options.runs }

    /// The directory holding this executable, where `qmp-shell` is built alongside it.
    var productsDirectory: String {
        let path = CommandLine.arguments[0]
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }

    /// A peer script in the `--peers` directory.
    func peerScript(_ name: String) -> String { options.peersDirectory + "/" + name }

    /// Prints a progress line at once (stdout may be a pipe to `tee`).
    func log(_ line: String) {
        print(line)
        fflush(nil)
    }

    /// Measures both sides `runs` times, alternating ours and theirs so that drift in the machine's
    /// load or clock speed falls on both alike, and returns the row. Each closure returns one
    /// figure in `metric`'s unit.
    func compare(
        _ name: String, peer: String, metric: Metric, goal: Double?,
        ours: () async throws -> Double, theirs: () async throws -> Double
    ) async throws -> Comparison {
        let samples = try await alternate(["ours", peer], figures: [metric]) { side in
            [side == 0 ? try await ours() : try await theirs()]
        }
        return Comparison(
            name: name, peer: peer, metric: metric, goal: goal, ours: samples[0][0], theirs: samples[1][0])
    }

    /// Measures several sides `runs` times each, in turn within every run (side 0, 1, 2..., then
    /// again), so that drift in the machine's load falls on all alike. `measure(side)` measures one
    /// run of one side and returns one value per metric in `figures`, in that order; `warmup`
    /// untimed runs of every side come first (to fill caches the first real run would otherwise
    /// pay for). Returns `samples[side][figure]`.
    func alternate(
        _ sides: [String], figures: [Metric], warmup: Int = 0, measure: (Int) async throws -> [Double]
    ) async throws -> [[Samples]] {
        for _ in 0..<warmup {
            for side in sides.indices { _ = try await measure(side) }
        }
        var samples = [[Samples]](repeating: [Samples](repeating: Samples(), count: figures.count), count: sides.count)
        for run in 1...runs {
            var parts: [String] = []
            for (side, label) in sides.enumerated() {
                let values = try await measure(side)
                guard values.count == figures.count else {
                    throw BenchError("\(label) returned \(values.count) figures, not \(figures.count)")
                }
                for (figure, value) in values.enumerated() { samples[side][figure].append(value) }
                let shown = zip(figures, values).map { metric, value in
                    metric.format(value) + (metric.higherIsBetter ? " " + metric.unit : "")
                }
                parts.append("\(label) " + shown.joined(separator: ", "))
            }
            log("  run \(run)/\(runs): " + parts.joined(separator: "; "))
        }
        return samples
    }
}
