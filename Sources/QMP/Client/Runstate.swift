/// Where a client is in its life: it starts `idle`, is `connecting` during the handshake,
/// `running` while commands can be sent, `disconnecting` while it closes, and `idle` again after.
public enum Runstate: String, Sendable, Hashable {
    case idle
    case connecting
    case running
    case disconnecting
}

/// Which direction a message travelled, for the raw-message hook.
public enum MessageDirection: String, Sendable, Hashable {
    /// From the client to the server.
    case sent = "out"
    /// From the server to the client.
    case received = "in"
}
