/// One row of the report: our figure against a peer's, over the same runs on the same machine.
struct Comparison: Sendable {
    /// What is compared, e.g. "events through a listener".
    let name: String
    /// Who we are compared with, e.g. "qemu.qmp".
    let peer: String
    let metric: Metric
    /// How many times better than the peer we mean to be (the ratio must reach it); `nil` for a
    /// row that only informs.
    let goal: Double?
    var ours = Samples()
    var theirs = Samples()
    /// Anything a reader of the table should know (dropped events, versions...).
    var notes: [String] = []
    /// Why the comparison could not run, if it could not (missing peer, no QEMU...).
    var failure: String?
    /// Whether `ours` and `theirs` are pairs (run `i` of each taken back to back), so the ratio is
    /// the median of the runs' own ratios: for a server whose speed drifts between runs by more
    /// than the difference measured (see `LibvirtBenchmark`).
    var paired = false

    init(
        name: String, peer: String, metric: Metric, goal: Double?, ours: Samples = Samples(),
        theirs: Samples = Samples()
    ) {
        self.name = name
        self.peer = peer
        self.metric = metric
        self.goal = goal
        self.ours = ours
        self.theirs = theirs
    }

    /// How many times better we are than the peer, comparing medians; `nil` if not measured.
    var ratio: Double? {
        guard failure == nil, !ours.isEmpty, !theirs.isEmpty else { return nil }
        if paired && ours.values.count == theirs.values.count {
            return Samples(values: zip(ours.values, theirs.values).map { metric.ratio(ours: $0, theirs: $1) }).median
        }
        return metric.ratio(ours: ours.median, theirs: theirs.median)
    }

    /// Whether the ratio reaches the goal; `nil` when not measured or there is no goal.
    var goalMet: Bool? {
        guard let ratio, let goal else { return nil }
        return ratio >= goal
    }
}
