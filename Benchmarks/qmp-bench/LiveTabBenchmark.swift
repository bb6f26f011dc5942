import Dispatch
import QMP
import QMPLineSyntax
import QMPSchema
import QMPShell
import QMPTestSupport

/// Tab on arguments whose values only the running VM knows, in-process against a real QEMU
/// (`-M none`, a few block nodes and objects added): the same `LiveCompleter` the terminal thread
/// calls, on a thread of its own as there (it blocks up to 100 ms for the server).
///
/// - cold: the cache emptied before each Tab (as after a line ran), so each Tab asks QEMU;
///   200 Tabs per kind and run.
/// - cached: the answer kept; 2,000 Tabs per kind and run.
///
/// No peer completes these names: the rows inform, with absolute goals (p99 under 20 ms cold,
/// under 5 ms cached).
struct LiveTabBenchmark: Benchmark {
    let id = "live-tab"
    static let coldGoal = 0.020
    static let cachedGoal = 0.005
    static let coldTabs = 200
    static let cachedTabs = 2_000

    static let kinds: [(name: String, line: String)] = [
        ("node names", "block-dirty-bitmap-add node=n"),
        ("object ids", "object-del id=m"),
        ("QOM path level", "qom-list path=/machine/"),
        ("QOM properties", "qom-get path=/objects/mem0 property="),
    ]

    func run(in context: BenchContext) async throws -> [Comparison] {
        let qemu = try QEMUInstance()
        defer { qemu.kill() }
        let client = QMPClient(configuration: .patient)
        try await client.connect(to: .unix(path: qemu.socketPath))
        defer { Task { await client.disconnect() } }
        for index in 0..<8 {
            try await client.execute(
                "blockdev-add", arguments: ["driver": "null-co", "node-name": .string("n\(index)")])
            try await client.execute(
                "object-add",
                arguments: ["qom-type": "memory-backend-ram", "id": .string("mem\(index)"), "size": 1_048_576])
        }
        let schema = try QMPSchema(introspection: try await client.execute("query-qmp-schema"))
        let link = ServerLink(client: client, listener: nil)
        let live = LiveValues(link: link)
        let completer = LiveCompleter(
            inner: SchemaCompleter(schema: { schema }, devices: { nil }), schema: { schema }, live: live)
        for kind in Self.kinds where completer.complete(line: kind.line).candidates.isEmpty {
            throw BenchError("Tab offers nothing for '\(kind.line)'")
        }
        let figures = Self.kinds.flatMap { _ in [Metric.seconds, .seconds, .seconds, .seconds] }
        let samples = try await context.alternate(["ours"], figures: figures, warmup: 1) { _ in
            await Self.onThread {
                Self.kinds.flatMap { kind -> [Double] in
                    let cold = Stopwatch.latencies(of: Self.coldTabs, before: live.invalidate) {
                        _ = completer.complete(line: kind.line)
                    }
                    let cached = Stopwatch.latencies(of: Self.cachedTabs) { _ = completer.complete(line: kind.line) }
                    return [cold.percentile99, cold.median, cached.percentile99, cached.median]
                }
            }
        }[0]
        var rows: [Comparison] = []
        for (index, kind) in Self.kinds.enumerated() {
            var cold = Comparison(
                name: "live Tab p99 cold: \(kind.name)", peer: "-", metric: .seconds, goal: nil,
                ours: samples[4 * index])
            cold.notes.append("median \(Metric.seconds.format(samples[4 * index + 1].median))")
            var cached = Comparison(
                name: "live Tab p99 cached: \(kind.name)", peer: "-", metric: .seconds, goal: nil,
                ours: samples[4 * index + 2])
            cached.notes.append("median \(Metric.seconds.format(samples[4 * index + 3].median))")
            rows += [cold, cached]
        }
        let worstCold = Self.kinds.indices.map { samples[4 * $0].median }.max() ?? 0
        let worstCached = Self.kinds.indices.map { samples[4 * $0 + 2].median }.max() ?? 0
        rows[0].notes.insert(
            "goals p99 under \(Metric.seconds.format(Self.coldGoal)) cold "
                + "(\(worstCold < Self.coldGoal ? "met" : "NOT met"), slowest \(Metric.seconds.format(worstCold))) "
                + "and under \(Metric.seconds.format(Self.cachedGoal)) cached "
                + "(\(worstCached < Self.cachedGoal ? "met" : "NOT met"), slowest \(Metric.seconds.format(worstCached)))",
            at: 0)
        return rows
    }

    /// Runs `body` on a thread of its own, as Tab runs on the terminal thread (it may block).
    private static func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: body()) }
        }
    }

}

extension LiveCompleter {
    /// Completes `line` as the shell's completer hands a line to an argument completer.
    fileprivate func complete(line: String) -> CompletionResult {
        let word = String(line.reversed().prefix { !$0.isWhitespace }.reversed())
        let command = String(line.prefix { !$0.isWhitespace })
        return complete(command: command, word: word, lineBeforeCursor: line)
    }
}
