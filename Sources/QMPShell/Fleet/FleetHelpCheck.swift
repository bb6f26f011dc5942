import QMP
import Synchronization

/// `.help COMMAND` on several targets is answered from the first target's schema; the targets may
/// run other QEMU versions, so this says in one line on which of the other connected targets the
/// command is missing. Each target's command names are asked once per connection
/// (`query-commands`, a few kilobytes) and kept until it reconnects; a target that did not answer
/// in time is not asked again on that connection, so it holds no later `.help` up.
final class FleetHelpCheck: Sendable {
    /// Command names by target (members live as long as the shell), with the connection they came
    /// from; `nil` names: that connection did not say in time.
    private let known = Mutex<[ObjectIdentifier: (client: QMPClient, names: Set<String>?)]>([:])

    /// The most names a line lists; beyond it, the count.
    static let namesListed = 5

    /// How long a target's `query-commands` may take.
    static let answerTimeout: Duration = .seconds(2)

    /// The line to show after `.help NAME` was answered by `first`, or `nil`: when NAME is a
    /// command of `first` that some of `others` lack. A target that cannot say (within
    /// ``answerTimeout``) is not counted.
    func note(forHelpLine line: String, first: FleetMember, others: [FleetMember]) async -> String? {
        let words = line.dropFirst(".help".count).split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let word = words.first, !word.hasPrefix("."), !others.isEmpty else { return nil }
        let name = String(word)
        guard await commandNames(of: first)?.contains(name) == true else { return nil }
        let lacking = await withTaskGroup(of: FleetMember?.self) { group in
            for member in others {
                group.addTask { await self.commandNames(of: member)?.contains(name) == false ? member : nil }
            }
            var lacking: [FleetMember] = []
            for await member in group { if let member { lacking.append(member) } }
            return lacking
        }
        guard !lacking.isEmpty else { return nil }
        let ordered = others.filter { member in lacking.contains { $0 === member } }
        let total = others.count + 1
        let missingOn =
            ordered.count > Self.namesListed
            ? "\(ordered.count) of \(total) connected targets"
            : "\(Self.naming(ordered)) (\(ordered.count) of \(total) connected targets)"
        return "qmp-shell: \(name.escapingControlCharacters) is missing on \(missingOn)"
    }

    /// `member`'s command names, asked of its current connection once.
    private func commandNames(of member: FleetMember) async -> Set<String>? {
        guard let client = member.runner?.link.client else { return nil }
        let key = ObjectIdentifier(member)
        if let entry = known.withLock({ $0[key] }), entry.client === client { return entry.names }
        // A target slow to answer does not hold `.help` up for long: it is left out of the count.
        let reply = try? await client.execute("query-commands", timeout: Self.answerTimeout)
        let names = reply?.arrayValue.map { list in Set(list.compactMap { $0["name"]?.stringValue }) }
        known.withLock { $0[key] = (client, names) }
        return names
    }

    /// "web-1, web-2", or "12 targets (.targets lists them)" beyond ``namesListed``.
    static func naming(_ members: [FleetMember]) -> String {
        guard members.count <= namesListed else { return "\(members.count) targets (.targets lists them)" }
        return members.map { $0.target.name.escapingControlCharacters }.joined(separator: ", ")
    }
}
