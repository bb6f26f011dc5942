/// A QEMU release, as far as the schema's history needs it: `major.minor`.
public struct QEMUVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let major: Int
    public let minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public static func < (left: QEMUVersion, right: QEMUVersion) -> Bool {
        (left.major, left.minor) < (right.major, right.minor)
    }

    public var description: String { "\(major).\(minor)" }
}

/// The commands whose arguments QEMU leaves open, by QEMU version.
///
/// QEMU's schema source marks such a command `'gen': false`: QEMU parses its arguments itself, and
/// introspection lists only the few it declares. The command takes more, which the shell sends
/// as typed (typed by the syntax rules; `device_add`'s by its driver's properties). Introspection
/// cannot tell, hence this table, read from QEMU's `qapi/*.json` history:
///
/// - `device_add`: open in every version (its driver's properties; still `'gen': false` in 10.x).
/// - `netdev_add`: open before 5.0 (the backend's options: `type=user id=n1 dnssearch=...`);
///   QEMU 5.0 declares them as the union `Netdev` ("net: Complete qapi-fication of netdev_add").
/// - `object-add`: open in 5.0 to 5.2, when the object's properties moved to the top level
///   ("qapi: Flatten object-add"; `props` was still accepted); QEMU 6.0 declares them as the union
///   `ObjectOptions`. Before 5.0 the properties went in `props`, which the schema declares.
enum OpenArguments {
    private static let table: [(command: String, since: QEMUVersion?, until: QEMUVersion?)] = [
        ("device_add", nil, nil),
        ("netdev_add", nil, QEMUVersion(major: 5, minor: 0)),
        ("object-add", QEMUVersion(major: 5, minor: 0), QEMUVersion(major: 6, minor: 0)),
    ]

    /// The open commands of `version` (`until` excluded); for an unknown version, those of
    /// current QEMU.
    static func commands(in version: QEMUVersion?) -> Set<String> {
        Set(
            table.filter { entry in
                guard let version else { return entry.until == nil }
                return entry.since.map { $0 <= version } != false && entry.until.map { version < $0 } != false
            }.map(\.command))
    }
}
