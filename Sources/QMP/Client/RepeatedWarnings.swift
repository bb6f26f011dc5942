/// Counts the warnings a client gives about what the server sent (a reply with an unknown id, an
/// event without a name), so that a server repeating a fault 100,000 times costs a few lines, not
/// 100,000: the first of each kind is logged as it comes, the repeats are counted and logged as
/// one "N more like it" line at most once per ``interval``: on the next repeat after it, or by a
/// timer when the repeats stop (so the count comes within about a second), and once more when the
/// connection ends.
struct RepeatedWarnings {
    /// How often the repeats of one kind of warning are reported while they go on.
    static let interval: Duration = .seconds(1)

    private struct Tally {
        var unreported = 0
        var lastReport: ContinuousClock.Instant
    }

    /// By message, in the order they first came.
    private var tallies: [String: Tally] = [:]
    private var order: [String] = []
    /// Whether a timer will report the repeats counted so far.
    var reportScheduled = false

    /// What to log now for one more warning `message`.
    enum Report: Equatable {
        /// The first of its kind: the warning itself, with its details.
        case first
        /// "`message`: `count` more like it".
        case repeats(count: Int)
        /// Nothing yet: counted for a later report.
        case none
    }

    /// Counts one more `message` at `now` and says what to log.
    mutating func record(_ message: String, now: ContinuousClock.Instant = .now) -> Report {
        guard var tally = tallies[message] else {
            tallies[message] = Tally(lastReport: now)
            order.append(message)
            return .first
        }
        tally.unreported += 1
        defer { tallies[message] = tally }
        guard now - tally.lastReport >= Self.interval else { return .none }
        defer {
            tally.unreported = 0
            tally.lastReport = now
        }
        return .repeats(count: tally.unreported)
    }

    /// The repeats not reported yet, by message, as reported at `now` (by the timer, or when the
    /// connection ends).
    mutating func takeUnreported(now: ContinuousClock.Instant = .now) -> [(message: String, count: Int)] {
        order.compactMap { message in
            guard let count = tallies[message]?.unreported, count > 0 else { return nil }
            tallies[message]?.unreported = 0
            tallies[message]?.lastReport = now
            return (message, count)
        }
    }

    /// "dropped a reply with an unknown id: 99,999 more like it".
    static func summary(_ message: String, count: Int) -> String {
        "\(message): \(count) more like it"
    }
}
