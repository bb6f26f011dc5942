/// What a comparison measures: its unit, which direction is better, and how to print a value.
enum Metric: Sendable {
    /// Things per second, e.g. `events/s`. Higher is better.
    case rate(String)
    /// A duration in seconds (printed in ms or s). Lower is better.
    case seconds
    /// A size in bytes, e.g. peak RSS (printed in KiB or MiB). Lower is better.
    case bytes
    /// A share of one CPU core, in percent (printed as `0.30 %`). Lower is better.
    case coreShare

    var unit: String {
        switch self {
        case .rate(let unit): unit
        case .seconds: "time"
        case .bytes: "memory"
        case .coreShare: "CPU"
        }
    }

    var higherIsBetter: Bool {
        if case .rate = self { return true }
        return false
    }

    /// How many times better `ours` is than `theirs` (above 1: we win).
    func ratio(ours: Double, theirs: Double) -> Double {
        higherIsBetter ? ours / theirs : theirs / ours
    }

    func format(_ value: Double) -> String {
        switch self {
        case .rate: return Format.grouped(value)
        case .seconds:
            return value < 1
                ? Format.fixed(value * 1000, digits: value < 0.01 ? 2 : 1) + " ms"
                : Format.fixed(value, digits: 2) + " s"
        case .bytes:
            return value < 1_048_576
                ? Format.fixed(value / 1024, digits: 0) + " KiB" : Format.fixed(value / 1048576, digits: 1) + " MiB"
        case .coreShare:
            return Format.fixed(value, digits: 2) + " %"
        }
    }
}
