import Glibc
import QMP
import ShellSystem

extension SchemaCache {
    /// The file that says which build's schema the server `server` (as named on the command
    /// line) had last time: `server-<hash>.json`.
    func pointerPath(forServer server: String) -> String {
        directory + "/server-\(Key.fnv1a(server)).json"
    }

    /// Notes that `server` runs the build `key` (its schema is in the cache under that key), for
    /// `--dry-run` against the same name later. Silent when it cannot be written.
    public func remember(_ key: Key, forServer server: String) {
        guard key.isCacheable, Self.isTrusted(directory) else { return }
        let note: JSONValue = [
            "server": .string(server), "qemu": .string(key.version), "package": .string(key.package),
            "target": .string(key.target),
        ]
        var bytes: [UInt8] = []
        note.write(to: &bytes)
        bytes.append(UInt8(ascii: "\n"))
        _ = FileIO.replace(pointerPath(forServer: server), with: bytes)
    }

    /// The schema the server named `server` had when the shell last talked to it, from the
    /// cache; `nil` when the cache does not know it (the files are trusted as for ``load(_:)``).
    public func schema(forServer server: String) -> QMPSchema? {
        guard Self.isTrusted(directory), let bytes = Self.readFile(pointerPath(forServer: server)),
            let note = try? JSONParser.parse(bytes), note["server"]?.stringValue == server,
            let version = note["qemu"]?.stringValue, let package = note["package"]?.stringValue,
            let target = note["target"]?.stringValue
        else { return nil }
        let key = Key(version: version, package: package, target: target)
        guard let introspection = load(key) else { return nil }
        let parts = version.split(separator: ".").compactMap { Int($0) }
        let qemu = parts.count >= 2 ? QEMUVersion(major: parts[0], minor: parts[1]) : nil
        return try? QMPSchema(introspection: introspection, version: qemu)
    }
}

extension SchemaCache {
    /// The name a server is remembered by: a UNIX socket's path without symbolic links or `..`
    /// (when it can be resolved), a TCP address as written, a libvirt domain as `place`.
    public static func serverName(of address: QMPAddress) -> String {
        guard case .unix(let path) = address, let resolved = realpath(path, nil) else { return address.description }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
