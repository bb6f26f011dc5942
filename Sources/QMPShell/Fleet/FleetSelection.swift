import Glibc
import QMP

/// Turns what the command line names (addresses, domain names and patterns, `--all-domains`)
/// into the targets of a run.
public enum FleetSelection {
    /// Whether `text` is a shell pattern (`*`, `?` or `[`), which selects domains by name.
    public static func isPattern(_ text: String) -> Bool {
        text.contains { $0 == "*" || $0 == "?" || $0 == "[" }
    }

    /// Whether `name` matches the shell pattern `pattern`, as the shell's globbing does (fnmatch).
    public static func matches(_ name: String, pattern: String) -> Bool {
        fnmatch(pattern, name, 0) == 0
    }

    /// The targets for socket addresses, in the order given; the same address twice is one target.
    public static func addresses(_ texts: [String]) throws(QMPError) -> [FleetTarget] {
        var seen = Set<String>()
        var targets: [FleetTarget] = []
        for text in texts where seen.insert(text).inserted {
            targets.append(try FleetTarget.address(text))
        }
        return targets
    }

    /// The domains `names` select on `uri`: a plain name (or UUID, or id) as given, a pattern every
    /// running domain whose name it matches, `all` every running domain. Sorted by how they were
    /// asked for, then by name; each domain once. Throws when libvirt cannot list the domains, or
    /// when a pattern matches none (a typo should not look like an empty success).
    public static func domains(_ names: [String], all: Bool, uri: String) async throws(QMPError) -> [LibvirtTarget] {
        let needsList = all || names.contains(where: isPattern)
        let running = needsList ? try await LibvirtTarget.runningDomains(uri: uri) : []
        var selected: [String] = []
        var seen = Set<String>()
        func add(_ name: String) { if seen.insert(name).inserted { selected.append(name) } }
        if all { running.forEach(add) }
        for name in names {
            guard isPattern(name) else {
                add(name)
                continue
            }
            let matching = running.filter { matches($0, pattern: name) }
            if matching.isEmpty {
                throw .invalidState("no running domain on \(uri) matches '\(name)'")
            }
            matching.forEach(add)
        }
        if all && selected.isEmpty { throw .invalidState("no domain is running on \(uri)") }
        return selected.map { LibvirtTarget(domain: $0, uri: uri) { _ in nil } }
    }
}
