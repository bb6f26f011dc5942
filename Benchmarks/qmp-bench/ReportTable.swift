/// The table `make bench` ends with: one row per comparison, medians with their spread, and the
/// ratio (how many times better we are than the peer) against the goal.
enum ReportTable {
    static func render(_ comparisons: [Comparison], runs: Int) -> String {
        var rows: [[String]] = [
            [
                "comparison", "unit", "ours (median)", "ours min-max", "peer", "peer (median)", "peer min-max", "ratio",
                "goal", "met",
            ]
        ]
        for row in comparisons {
            let metric = row.metric
            if row.failure != nil {
                rows.append([row.name, "-", "-", "-", row.peer, "-", "-", "-", "-", "ERROR"])
                continue
            }
            func spread(_ samples: Samples) -> String {
                samples.isEmpty ? "-" : metric.format(samples.min) + " - " + metric.format(samples.max)
            }
            rows.append([
                row.name, metric.unit,
                row.ours.isEmpty ? "-" : metric.format(row.ours.median), spread(row.ours),
                row.peer,
                row.theirs.isEmpty ? "-" : metric.format(row.theirs.median), spread(row.theirs),
                row.ratio.map(Format.ratio) ?? "-",
                row.goal.map { ">= " + Format.ratio($0) } ?? "-",
                row.goalMet.map { $0 ? "yes" : "NO" } ?? "-",
            ])
        }
        var lines = [layout(rows, rightAligned: [2, 3, 5, 6, 7, 8])]
        lines.append("ratio: how many times better we are than the peer, from the medians of \(runs) runs each")
        lines.append("(higher is better for rates; for times, memory and CPU the ratio is peer / ours).")
        for row in comparisons {
            for note in row.notes { lines.append("\(row.name): \(note)") }
            if let failure = row.failure { lines.append("\(row.name): ERROR: \(failure)") }
        }
        return lines.joined(separator: "\n")
    }

    /// Columns padded to their widest cell, a rule under the header.
    private static func layout(_ rows: [[String]], rightAligned: Set<Int>) -> String {
        let columns = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        func line(_ row: [String]) -> String {
            row.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return rightAligned.contains(column) ? padding + cell : cell + padding
            }.joined(separator: "  ").replacing(/\s+$/, with: "")
        }
        var output = [line(rows[0]), String(repeating: "-", count: widths.reduce(0, +) + 2 * (columns - 1))]
        output += rows.dropFirst().map(line)
        return output.joined(separator: "\n")
    }
}
