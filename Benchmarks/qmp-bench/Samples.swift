/// The values one side of a comparison produced over its runs, in the order they were taken.
struct Samples: Sendable {
    var values: [Double] = []

    var isEmpty: Bool { values.isEmpty }

    /// The middle value (the mean of the two middle ones for an even count).
    var median: Double {
        precondition(!values.isEmpty, "no samples")
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    var min: Double { values.min()! }
    var max: Double { values.max()! }

    mutating func append(_ value: Double) { values.append(value) }
}

/// Runs `body` `runs` times (after `warmup` untimed runs) and collects what each run reports.
///
/// The body does its own timing, so it can exclude set-up: it returns the measured figure (a rate,
/// a duration in seconds, a size in bytes...).
func measure(runs: Int, warmup: Int = 0, _ body: () async throws -> Double) async rethrows -> Samples {
    for _ in 0..<warmup { _ = try await body() }
    var samples = Samples()
    for _ in 0..<runs { samples.append(try await body()) }
    return samples
}
