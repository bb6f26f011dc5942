/// Everything that can go wrong talking to a QMP server, as a short list a caller can act on.
///
/// Each case carries a message written for the person at the terminal, for example
/// `could not connect to /run/vm.sock: No such file or directory`.
public enum QMPError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The socket could not be opened: wrong path, nothing listening, refused, not a socket.
    case couldNotConnect(String)
    /// Connected, but the greeting, capability negotiation or guest-agent sync failed.
    case handshakeFailed(String)
    /// QEMU answered the command with an error; `errorClass` is QEMU's class (`GenericError`, …).
    case commandFailed(errorClass: String, description: String)
    /// The connection ended while this was pending (the server went away, or we disconnected).
    case disconnected(String)
    /// The server broke the protocol (unparseable message, an error without an id); the session ends.
    case protocolViolation(String)
    /// The call does not fit the client's state (not connected yet, already connected, …).
    case invalidState(String)
    /// What the caller gave cannot be used: an address that does not parse, a message that is
    /// not a JSON object, descriptors the transport cannot carry or the kernel refuses.
    case invalidArgument(String)
    /// Nothing matching arrived in time: an event, or a command's reply within its `timeout:`.
    case timedOut(String)
    /// The task waiting for a reply was cancelled. The command may still run on the server; its
    /// reply, if it comes, is dropped and the session goes on.
    case cancelled(String)

    public var description: String {
        switch self {
        case .couldNotConnect(let message): return message
        case .handshakeFailed(let message): return "handshake failed: \(message)"
        case .commandFailed(let errorClass, let description): return "\(errorClass): \(description)"
        case .disconnected(let message): return "disconnected: \(message)"
        case .protocolViolation(let message): return "protocol error: \(message)"
        case .invalidState(let message): return message
        case .invalidArgument(let message): return message
        case .timedOut(let message): return message
        case .cancelled(let message): return message
        }
    }
}
