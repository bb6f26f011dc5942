#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A comparison the harness can run. Each benchmark owns its fixture (fake server, QEMU...): it
/// sets it up in ``run(in:)``, measures both sides with ``BenchContext/compare(_:peer:metric:goal:ours:theirs:)``
/// and tears it down.
protocol Benchmark: Sendable {
    /// A short name for `--only`, e.g. `events`.
    var id: String { get }
    func run(in context: BenchContext) async throws -> Comparison
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
        _ name: String, peer: String, metric: Metric, goal: Double,
        ours: () async throws -> Double, theirs: () async throws -> Double
    ) async throws -> Comparison {
        var comparison = Comparison(name: name, peer: peer, metric: metric, goal: goal)
        for run in 1...runs {
            let our = try await ours()
            comparison.ours.append(our)
            let their = try await theirs()
            comparison.theirs.append(their)
            log("  run \(run)/\(runs): ours \(metric.format(our)), \(peer) \(metric.format(their)) \(metric.unit)")
        }
        return comparison
    }
}
