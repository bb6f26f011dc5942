/// How one target's run ended, and how a fleet's ends.
public enum FleetTargetResult: Sendable, Equatable {
    /// Every line succeeded (or `.quit` ended it after successes).
    case succeeded
    /// A line failed on it: a QMP error, a line that did not parse, a timeout after it connected.
    case failed
    /// It could not be reached, its connection was lost, or it never answered.
    case unreachable
}

/// The tally of a fleet run: the summary line, the names of the targets that did not succeed,
/// and the exit status.
public struct FleetTally: Sendable {
    public private(set) var succeeded = 0
    public private(set) var failed: [String] = []
    public private(set) var unreachable: [String] = []

    public init() {}

    public mutating func add(_ result: FleetTargetResult, name: String) {
        switch result {
        case .succeeded: succeeded += 1
        case .failed: failed.append(name)
        case .unreachable: unreachable.append(name)
        }
    }

    /// 3 when any target was unreachable (a host-side problem an operator must see first, as a
    /// lost connection wins over failed lines on one target), else 1 when a line failed on any,
    /// else 0.
    public var status: ExitStatus {
        if !unreachable.isEmpty { return .connection }
        if !failed.isEmpty { return .lineFailed }
        return .success
    }

    /// The lines for standard error: the counts, then the targets that failed and those that
    /// could not be reached, by name.
    public var summary: String {
        let total = succeeded + failed.count + unreachable.count
        var text =
            "qmp-shell: \(total) targets: \(succeeded) succeeded, \(failed.count) failed, "
            + "\(unreachable.count) unreachable\n"
        if !failed.isEmpty { text += "qmp-shell: failed: \(failed.joined(separator: " "))\n" }
        if !unreachable.isEmpty { text += "qmp-shell: unreachable: \(unreachable.joined(separator: " "))\n" }
        return text.escapingControlCharacters(keepingLines: true)
    }
}
