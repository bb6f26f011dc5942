/// Elapsed time on the monotonic clock, in seconds as a `Double` (what rates and tables want).
struct Stopwatch {
    private let start = ContinuousClock.now

    init() {}

    var elapsedSeconds: Double { Self.seconds(ContinuousClock.now - start) }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

extension Stopwatch {
    /// The median and the 99th percentile of `count` timed calls of `body`, in seconds;
    /// `before` runs ahead of each call, untimed.
    static func latencies(
        of count: Int, before: () -> Void = {}, _ body: () -> Void
    ) -> (median: Double, percentile99: Double) {
        var times: [Double] = []
        times.reserveCapacity(count)
        for _ in 0..<count {
            before()
            let stopwatch = Stopwatch()
            body()
            times.append(stopwatch.elapsedSeconds)
        }
        times.sort()
        return (times[times.count / 2], times[min(times.count - 1, times.count * 99 / 100)])
    }
}
