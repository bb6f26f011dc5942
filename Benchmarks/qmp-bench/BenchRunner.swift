/// Runs the selected benchmarks one after the other and prints the report.
enum BenchRunner {
    @concurrent
    static func run(_ options: Options) async -> [Comparison] {
        let context = BenchContext(options: options)
        let selected = Benchmarks.all.filter { options.only.isEmpty || options.only.contains($0.id) }
        context.log(
            "qmp-bench: \(selected.count) comparison(s), \(options.runs) runs per side, python: \(options.python)")
        context.log("machine: \(Machine.summary)")
        var comparisons: [Comparison] = []
        for benchmark in selected {
            context.log("\n[\(benchmark.id)]")
            do {
                comparisons.append(contentsOf: try await benchmark.run(in: context))
            } catch {
                context.log("  failed: \(error)")
                var failed = Comparison(name: benchmark.id, peer: "-", metric: .seconds, goal: nil)
                failed.failure = "\(error)"
                comparisons.append(failed)
            }
        }
        context.log("\n" + ReportTable.render(comparisons, runs: options.runs))
        context.log("machine after the run: load average \(Machine.loadAverage)")
        return comparisons
    }
}
