import Glibc

extension Duration {
    /// The duration in seconds as a person reads it in a message: `10 s`, `0.5 s`.
    public var secondsText: String {
        let value = Double(components.seconds) + Double(components.attoseconds) / 1e18
        return value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}

extension StringProtocol {
    /// The text without leading and trailing whitespace.
    public func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}

/// Clock times as the shell prints them: the event times of `--watch` and the log's stamps.
public enum ClockText {
    /// `seconds` (since the epoch) and `milliseconds` as local `HH:MM:SS.mmm`.
    public static func local(seconds: Int, milliseconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        localtime_r(&time, &parts)
        return "\(padded(parts.tm_hour, 2)):\(padded(parts.tm_min, 2)):\(padded(parts.tm_sec, 2))."
            + padded(milliseconds, 3)
    }

    /// Now, as local `HH:MM:SS.mmm`.
    public static func localNow() -> String {
        let now = realtimeNow()
        return local(seconds: now.tv_sec, milliseconds: now.tv_nsec / 1_000_000)
    }

    /// Now in UTC with microseconds, ISO 8601: `2026-12-03T10:06:39.123456Z`.
    public static func utcTimestamp() -> String {
        let now = realtimeNow()
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return "\(padded(parts.tm_year + 1900, 4))-\(padded(parts.tm_mon + 1, 2))-\(padded(parts.tm_mday, 2))T"
            + "\(padded(parts.tm_hour, 2)):\(padded(parts.tm_min, 2)):\(padded(parts.tm_sec, 2))."
            + "\(padded(now.tv_nsec / 1000, 6))Z"
    }

    private static func realtimeNow() -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return now
    }

    private static func padded(_ value: some BinaryInteger, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}
