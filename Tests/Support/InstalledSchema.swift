import QMP

/// The schema of the installed QEMU, fetched once per test run from a throwaway `-M none` QEMU:
/// a copy kept in the repository could go stale without anyone noticing.
public enum InstalledSchema {
    private static let fetched = Task { () async throws -> JSONValue in
        let qemu = try QEMUInstance()
        defer { qemu.kill() }
        let client = QMPClient(configuration: .patient)
        try await client.connect(to: .unix(path: qemu.socketPath))
        let schema = try await client.execute("query-qmp-schema")
        await client.disconnect()
        return schema
    }

    /// What `query-qmp-schema` returned.
    public static func introspection() async throws -> JSONValue {
        try await fetched.value
    }
}
