import QMP

/// One job's or the migration's progress, and how it reads on a line.
public struct ProgressLine: Sendable, Equatable {
    public var id: String
    /// `backup`, `mirror`, `stream`, ..., or `migration`.
    public var type: String
    public var status: String
    public var current: Int
    public var total: Int
    /// Bytes per second, once two samples are known.
    public var rate: Double?
    /// The job's error, when it has one.
    public var error: String?

    /// A `query-jobs` entry.
    init?(job: JSONValue) {
        guard let id = job["id"]?.stringValue else { return nil }
        self.id = id
        type = job["type"]?.stringValue ?? "job"
        status = job["status"]?.stringValue ?? "?"
        current = job["current-progress"]?.intValue ?? 0
        total = job["total-progress"]?.intValue ?? 0
        error = job["error"]?.stringValue
    }

    /// `query-migrate`'s answer, or `nil` when no migration has run.
    init?(migration: JSONValue) {
        guard let status = migration["status"]?.stringValue, status != "none" else { return nil }
        id = "migration"
        type = "migration"
        self.status = status
        let ram = migration["ram"]
        total = ram?["total"]?.intValue ?? 0
        current = max(0, total - (ram?["remaining"]?.intValue ?? total))
        if status == "completed" { current = total }
        if let mbps = ram?["mbps"]?.numberValue?.doubleValue, mbps > 0 { rate = mbps * 1_000_000 / 8 }
        error = migration["error-desc"]?.stringValue
    }

    /// Whether the job or migration is still under way.
    public var isRunning: Bool {
        switch status {
        case "concluded", "null", "completed", "failed", "cancelled", "none": return false
        default: return true
        }
    }

    /// The fraction done, 0...1, when the total is known.
    public var fraction: Double? {
        total > 0 ? min(1, max(0, Double(current) / Double(total))) : nil
    }

    /// `ID TYPE [█████░░░░░]  52%  1.0 MiB/s  0:03 left  STATUS`; without `bar`, the same with
    /// no bar.
    public func text(bar: Bool) -> String {
        var parts = [id == type ? id : "\(id) \(type)"]
        if let fraction {
            if bar {
                let width = 20
                let filled = Int((fraction * Double(width)).rounded(.down))
                parts.append(
                    "[" + String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled) + "]")
            }
            let percent = String(Int((fraction * 100).rounded(.down)))
            parts.append(String(repeating: " ", count: max(0, 3 - percent.count)) + percent + "%")
        }
        if let rate, rate > 0 {
            parts.append(Self.bytes(rate) + "/s")
            if total > current { parts.append(Self.duration(Double(total - current) / rate) + " left") }
        }
        parts.append(status)
        return parts.joined(separator: "  ")
    }

    /// The line said when it ended: `j0 backup: completed`, or its error.
    public var endText: String {
        let name = id == type ? id : "\(id) \(type)"
        if let error { return "\(name): failed: \(error)" }
        switch status {
        case "failed": return "\(name): failed"
        case "cancelled": return "\(name): cancelled"
        default: return "\(name): completed"
        }
    }

    static func bytes(_ value: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = value
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds < 360_000 else { return "?" }
        let whole = Int(seconds.rounded(.up))
        let (hours, minutes, rest) = (whole / 3600, whole / 60 % 60, whole % 60)
        let padded = rest < 10 ? "0\(rest)" : "\(rest)"
        if hours > 0 { return "\(hours):\(minutes < 10 ? "0" : "")\(minutes):\(padded)" }
        return "\(minutes):\(padded)"
    }
}
