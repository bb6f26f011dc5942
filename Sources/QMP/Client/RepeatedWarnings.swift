/// Counts the warnings a client gives about what the server sent (a reply with an unknown id, an
/// event without a name), so that a server repeating a fault 100,000 times costs a few lines, not
/// 100,000: the first of each kind is logged as it comes, the repeats are counted and logged as
/// one "N more like it" line at most once per ``interval``, and once more when the connection ends.
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

    /// The repeats not reported yet, by message, and forgets them (when the connection ends).
    mutating func takeUnreported() -> [(message: String, count: Int)] {
        defer {
            for message in order { tallies[message]?.unreported = 0 }
        }
        return order.compactMap { message in
            guard let count = tallies[message]?.unreported, count > 0 else { return nil }
            return (message, count)
        }
    }

    /// "dropped a reply with an unknown id: 99,999 more like it".
    static func summary(_ message: String, count: Int) -> String {
        "\(message): \(count) more like it"
    }
}
