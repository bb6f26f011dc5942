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
