import QMP
import Synchronization

/// Where a fleet's replies go, shared by its targets.
///
/// To a program (`.json`): each result as one JSON object with the target's name first
/// (`{"target":"web-3","return":{...}}`), written the moment it comes, so standard output is a
/// stream of such objects in completion order; each diagnostic line starts with the target's name.
/// To a person (`.grouped`): a target's output is held until its run ends, then written in one
/// piece under `== NAME ==`, so replies read per VM. What is held is bounded
/// (``groupLimit``): beyond it the group is written early and continues later under its name again.
public final class FleetOutput: Sendable {
    public enum Style: Sendable {
        case json
        case grouped
        /// The interactive shell: a line's output is grouped while the line runs (``TargetOutput/hold()``),
        /// events between lines are shown at once as `NAME: {...}`.
        case interactive
    }

    /// The most a target's held output may grow to on a terminal before it is written.
    public static let groupLimit = 1 << 20

    let streams: any ShellOutput
    let style: Style
    let pretty: Bool
    /// Held while a group is written, so groups never interleave.
    private let writing = Mutex(())

    public init(streams: any ShellOutput, style: Style, pretty: Bool) {
        self.streams = streams
        self.style = style
        self.pretty = pretty
    }

    /// The output of the target named `name`.
    func output(for name: String) -> TargetOutput { TargetOutput(name: name, fleet: self) }

    /// Writes a held group: its header, then its lines in the order they came.
    func writeGroup(_ name: String, _ entries: [TargetOutput.Entry]) {
        writing.withLock { _ in
            streams.result("== \(name.escapingControlCharacters) ==\n")
            for entry in entries {
                switch entry {
                case .result(let text): streams.result(text)
                case .diagnostic(let text): streams.diagnostic(text)
                }
            }
        }
    }

    /// `text` (one JSON object, or a reply that is text, as HMP's) as one object tagged with `name`.
    func tagged(_ text: String, name: String) -> String {
        var tagged: JSONObject = ["target": .string(name)]
        if case .object(let object)? = try? JSONParser.parse(text) {
            for member in object where member.key != "target" { tagged.append(key: member.key, value: member.value) }
        } else {
            tagged.append(key: "text", value: .string(text))
        }
        return tagged.serialized(pretty ? .pretty : .compact) + "\n"
    }
}

/// One target's view of the ``FleetOutput``: what the target's runner and printer write to.
final class TargetOutput: ShellOutput {
    enum Entry: Sendable {
        case result(String)
        case diagnostic(String)
    }

    let name: String
    private let fleet: FleetOutput
    private let held = Mutex<(entries: [Entry], bytes: Int, holding: Bool)>(([], 0, false))

    init(name: String, fleet: FleetOutput) {
        self.name = name
        self.fleet = fleet
    }

    func result(_ text: String) {
        switch fleet.style {
        case .json: fleet.streams.result(fleet.tagged(text, name: name))
        case .grouped, .interactive:
            if !hold(.result(text), bytes: text.utf8.count) { fleet.streams.result(prefixed(text)) }
        }
    }

    func diagnostic(_ text: String) {
        switch fleet.style {
        case .json: fleet.streams.diagnostic(prefixed(text))
        case .grouped, .interactive:
            if !hold(.diagnostic(text), bytes: text.utf8.count) { fleet.streams.diagnostic(prefixed(text)) }
        }
    }

    var isBacklogged: Bool { fleet.streams.isBacklogged }

    /// "web-3: could not connect ...": each line of `text` under the target's name.
    private func prefixed(_ text: String) -> String {
        let prefix = name.escapingControlCharacters + ": "
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        return lines.map { line in
            prefix + (line.hasPrefix("qmp-shell: ") ? line.dropFirst("qmp-shell: ".count) : line) + "\n"
        }.joined()
    }

    /// Interactive: holds what comes until ``flush()`` (a line starts running).
    func hold() { held.withLock { $0.holding = true } }

    /// Writes what is held (at the end of the target's run or line, or when it grew too large);
    /// the interactive style then shows what comes at once again.
    func flush() {
        let entries = held.withLock { held in
            defer { held = ([], 0, false) }
            return held.entries
        }
        if !entries.isEmpty { fleet.writeGroup(name, entries) }
    }

    /// Holds `entry` if this output holds now; `false` if it is to be written at once.
    private func hold(_ entry: Entry, bytes: Int) -> Bool {
        let (holding, full) = held.withLock { held -> (Bool, Bool) in
            guard fleet.style == .grouped || held.holding else { return (false, false) }
            held.entries.append(entry)
            held.bytes += bytes
            return (true, held.bytes >= FleetOutput.groupLimit)
        }
        if full {
            flush()
            if fleet.style == .interactive { hold() }
        }
        return holding
    }
}
