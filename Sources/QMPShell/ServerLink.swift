import QMP
import Synchronization

/// The connection the shell uses now. With `--reconnect` the client behind it is replaced when the
/// server comes back; meanwhile there is none, and commands get a clear error instead of waiting.
public final class ServerLink: Sendable {
    private struct State {
        var client: QMPClient?
        var listener: EventListener?
        /// Why there is no client, for the error a command gets.
        var absence = "not connected"
        /// The user sent `quit` to the current client: its end is what they asked for.
        var quitRequested = false
    }

    private let state: Mutex<State>
    /// `false` for `--dry-run`: there is never a server.
    public let hasServer: Bool

    /// A link to `client` (with the listener whose events the shell shows), or a dry-run link.
    public init(client: QMPClient?, listener: EventListener?) {
        state = Mutex(State(client: client, listener: listener))
        hasServer = client != nil
    }

    /// The client to send through, or `nil` while disconnected (or in a dry run).
    public var client: QMPClient? { state.withLock { $0.client } }

    /// The listener of the current connection's shown events.
    public var listener: EventListener? { state.withLock { $0.listener } }

    /// Why there is no client now.
    public var absence: String { state.withLock { $0.absence } }

    /// Whether the user sent `quit` to the current server (and it did not refuse), so the
    /// connection's end is a success, not a loss.
    public var quitRequested: Bool { state.withLock { $0.quitRequested } }

    /// Notes that `quit` is being sent (`true`), or that the server refused it (`false`).
    public func noteQuit(_ requested: Bool) {
        state.withLock { $0.quitRequested = requested }
    }

    /// Connected again: `client` replaces the lost one.
    public func attach(_ client: QMPClient, listener: EventListener) {
        state.withLock {
            $0.client = client
            $0.listener = listener
            $0.quitRequested = false
        }
    }

    /// The connection is gone; commands fail with `reason` until ``attach(_:listener:)``.
    public func detach(reason: String) {
        state.withLock {
            $0.client = nil
            $0.absence = reason
        }
    }
}
