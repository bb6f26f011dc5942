import QMP

/// One VM of a fleet: the name its replies are tagged with (as the user gave it: a socket path,
/// `HOST:PORT`, or a domain name) and how a client reaches it.
public struct FleetTarget: Sendable {
    /// The tag on everything this target prints.
    public let name: String
    /// Connects a client to this target.
    public let connect: @Sendable (QMPClient) async throws(QMPError) -> Void
    /// Said when `quit` is sent to it, where quitting means more than on a socket.
    public let quitNotice: String?

    public init(
        name: String, quitNotice: String? = nil, connect: @escaping @Sendable (QMPClient) async throws(QMPError) -> Void
    ) {
        self.name = name
        self.quitNotice = quitNotice
        self.connect = connect
    }

    /// A socket path or `HOST:PORT`, tagged as written; throws if it is not an address.
    public static func address(_ text: String) throws(QMPError) -> FleetTarget {
        let address = try QMPAddress(parsing: text)
        return FleetTarget(name: text) { client throws(QMPError) in try await client.connect(to: address) }
    }

    /// A libvirt domain, tagged with its name.
    public static func domain(_ target: LibvirtTarget) -> FleetTarget {
        FleetTarget(name: target.domain, quitNotice: target.quitNotice) { client throws(QMPError) in
            try await target.connect(client)
        }
    }
}

/// The defaults of fleet runs, shared by the command line's help and the library.
public enum FleetDefaults {
    /// How many targets a script runs on at once (`--parallel`): enough that a hundred VMs take a
    /// few rounds of one round trip each, few enough that the default limit of 1,024 open files
    /// and a small host's cores are never the bottleneck (see Docs/DECISIONS.md).
    public static let parallel = 32
}
