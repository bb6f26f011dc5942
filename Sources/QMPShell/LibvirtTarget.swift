import QMP
import QMPLibvirt

/// A VM that libvirt manages, as the shell addresses it: a domain (name, UUID or id) on a
/// connection URI. Its monitor is reached through libvirt's QEMU passthrough
/// (``QMPLibvirt/LibvirtTransport``), so everything the shell does on a socket works here.
public struct LibvirtTarget: Sendable {
    /// The domain as the user named it.
    public let domain: String
    /// The libvirt connection URI.
    public let uri: String

    /// `domain` on `uri`, else on ``connectionURI(_:environment:)``'s default.
    public init(domain: String, uri: String?, environment: (String) -> String?) {
        self.domain = domain
        self.uri = Self.connectionURI(uri, environment: environment)
    }

    /// `given`, else `$LIBVIRT_DEFAULT_URI`, else `qemu:///system`: virsh's order.
    public static func connectionURI(_ given: String?, environment: (String) -> String?) -> String {
        given ?? environment("LIBVIRT_DEFAULT_URI").flatMap { $0.isEmpty ? nil : $0 } ?? "qemu:///system"
    }

    /// How notices and the banner name it.
    public var place: String { "domain '\(domain)' on \(uri)" }

    /// libvirt's own warning, said once per run: the passthrough is outside what libvirt manages.
    public var taintNotice: String {
        "qmp-shell: note: commands go through libvirt's QEMU passthrough: libvirt marks domain '\(domain)' "
            + "tainted (custom-monitor) the first time, and does not track changes made this way"
    }

    /// What `quit` does here, said when it is sent.
    public var quitNotice: String {
        "qmp-shell: quit ends QEMU: libvirt sees domain '\(domain)' stop"
    }

    /// Opens the connection, finds the running domain and connects `client` to its monitor.
    /// `lockStep`: the client is used in lock-step from its transport's event loop with no reply
    /// timeout, so libvirt's calls are made right there (see
    /// ``QMPLibvirt/LibvirtTransport/open(_:inbound:callsOnEventLoop:)``).
    public func connect(_ client: QMPClient, lockStep: Bool = false) async throws(QMPError) {
        let connection = try await LibvirtConnection.open(uri)
        let found = try await connection.domain(domain)
        try await client.connect { inbound in
            try await LibvirtTransport.open(found, inbound: inbound, callsOnEventLoop: lockStep)
        }
    }

    /// The names of the running domains on `uri`, sorted.
    public static func runningDomains(uri: String) async throws(QMPError) -> [String] {
        try await LibvirtConnection.open(uri).runningDomainNames()
    }
}
