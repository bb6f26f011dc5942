/// What a QMP server says first: its version and the capabilities it offers.
public struct Greeting: Sendable, Hashable {
    /// QEMU's version triple, e.g. 7.2.22.
    public let major: Int
    public let minor: Int
    public let micro: Int
    /// The distribution's package string, possibly empty.
    public let package: String
    /// Capabilities the server offers, e.g. `["oob"]`.
    public let capabilities: [String]
    /// The greeting as received, unknown fields included.
    public let message: JSONObject

    /// "7.2.22".
    public var version: String { "\(major).\(minor).\(micro)" }

    /// Reads a greeting; unknown fields are ignored so newer servers keep working.
    init(message: JSONObject) throws(QMPError) {
        guard let qmp = message["QMP"]?.objectValue else {
            throw .handshakeFailed("expected a QMP greeting, got \(JSONValue.object(message).serialized().prefix(200))")
        }
        guard let qemu = qmp["version"]?["qemu"], let major = qemu["major"]?.intValue,
            let minor = qemu["minor"]?.intValue, let micro = qemu["micro"]?.intValue
        else {
            throw .handshakeFailed("the greeting has no version.qemu major/minor/micro")
        }
        self.major = major
        self.minor = minor
        self.micro = micro
        self.package = qmp["version"]?["package"]?.stringValue ?? ""
        self.capabilities = qmp["capabilities"]?.arrayValue?.compactMap(\.stringValue) ?? []
        self.message = message
    }

    /// A greeting for a guest agent, which sends none: version from `guest-info` when known.
    init(agentVersion: String) {
        let parts = agentVersion.split(separator: ".").map { Int($0) ?? 0 } + [0, 0, 0]
        self.major = parts[0]
        self.minor = parts[1]
        self.micro = parts[2]
        self.package = ""
        self.capabilities = []
        self.message = JSONObject()
    }
}
