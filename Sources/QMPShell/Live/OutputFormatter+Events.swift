import Glibc
import QMP
import ShellSystem

extension OutputFormatter {
    /// An event as shown: its JSON line, or with ``readableEvents`` the local time with
    /// milliseconds, the name and the data (compact, or indented with `-p`); on a colour
    /// terminal the time is dim and the name cyan, apart from replies.
    public func event(_ event: QMPEvent) -> String {
        guard readableEvents else { return json(event.message) }
        let time = EventWatcher.localTime(event.timestamp)
        // The server's text, bound for a terminal (the data is JSON, escaped already).
        let name = event.name.escapingControlCharacters
        let data = event.data.isEmpty ? "" : " " + event.data.serialized(pretty ? .pretty : .compact)
        guard color else { return "\(time) \(name)\(data)\n" }
        return "\u{1B}[2m\(time)\u{1B}[0m \u{1B}[36m\(name)\u{1B}[0m\(data)\n"
    }

    /// A reply as shown: its JSON, red on a colour terminal when it is an error.
    public func reply(_ message: JSONObject) -> String {
        let text = json(message)
        guard color, message["error"] != nil else { return text }
        return "\u{1B}[31m" + text.dropLast() + "\u{1B}[0m\n"
    }
}

extension OutputFormatter {
    /// This formatter, showing events for people when `readable` (the interactive shell).
    public func readingEvents(_ readable: Bool) -> OutputFormatter {
        var formatter = self
        formatter.readableEvents = readable
        return formatter
    }
}

extension ShellConfiguration {
    /// This configuration with what the running VM's views need to know: whether results go to a
    /// terminal (the interactive shell, or standard output is one) and whether progress lines may
    /// be drawn (the interactive shell, without `NO_COLOR` or `TERM=dumb`; `.job`'s on standard
    /// error in a script).
    public func live(
        interactive: Bool, environment: (String) -> String? = { environmentValue($0) },
        standardOutputIsTerminal: Bool = isatty(1) == 1
    ) -> ShellConfiguration {
        var configuration = self
        configuration.resultsOnTerminal = interactive || standardOutputIsTerminal
        let bars = environment("NO_COLOR") == nil && environment("TERM") != "dumb"
        configuration.progressBars = interactive && bars
        configuration.jobBarOnStandardError =
            !interactive && bars && isatty(2) == 1 && !standardOutputIsTerminal
        return configuration
    }
}
