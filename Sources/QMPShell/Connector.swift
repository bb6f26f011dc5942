import ShellSystem
import QMP

/// Makes and connects clients, once or (with `--reconnect`) until the server answers.
public struct Connector: Sendable {
    /// How `--reconnect` retries.
    public struct RetryPolicy: Sendable {
        public var delay: Duration
        /// `nil`: forever.
        public var retries: Int?

        public init(delay: Duration, retries: Int?) {
            self.delay = delay
            self.retries = retries
        }
    }

    /// Where the server is, for messages ("/run/vm.sock").
    public let place: String
    public let retryPolicy: RetryPolicy?
    private let makeClient: @Sendable () -> (QMPClient, EventListener)
    private let connect: @Sendable (QMPClient) async throws(QMPError) -> Void

    /// `makeClient` returns a new client and the listener of the events to show; `connect`
    /// connects it.
    public init(
        place: String, retryPolicy: RetryPolicy?,
        makeClient: @escaping @Sendable () -> (QMPClient, EventListener),
        connect: @escaping @Sendable (QMPClient) async throws(QMPError) -> Void
    ) {
        self.place = place
        self.retryPolicy = retryPolicy
        self.makeClient = makeClient
        self.connect = connect
    }

    /// Connects a new client; with a retry policy, tries again after each failure, telling
    /// `notice` about the first one. Returns the last error when it gives up (or is cancelled).
    public func connectClient(notice: (String) -> Void) async -> Result<(QMPClient, EventListener), QMPError> {
        var attempt = 0
        while true {
            let (client, listener) = makeClient()
            do throws(QMPError) {
                try await connect(client)
                return .success((client, listener))
            } catch {
                attempt += 1
                guard let retryPolicy, !Task.isCancelled, retryPolicy.retries.map({ attempt <= $0 }) ?? true else {
                    return .failure(error)
                }
                if attempt == 1 { notice(Self.retryingNotice(error, every: retryPolicy.delay)) }
                try? await Task.sleep(for: retryPolicy.delay)
                if Task.isCancelled { return .failure(error) }
            }
        }
    }
}

extension Connector {
    /// What the shell says when a first connection failed and it tries again.
    static func retryingNotice(_ error: QMPError, every delay: Duration) -> String {
        "qmp-shell: \(error); retrying every \(delay.secondsText)"
    }

    /// What the shell says when the connection is lost and it tries again.
    public func reconnectingNotice(after cause: QMPError) -> String {
        "qmp-shell: \(cause); reconnecting to \(place)"
    }

    /// What the shell says once `client` is connected again.
    public func reconnectedNotice(to client: QMPClient) -> String {
        "qmp-shell: reconnected to \(Self.serverName(client)) at \(place)"
    }

    /// What the shell says when a server it could not reach at first is connected at last.
    func connectedNotice(to client: QMPClient) -> String {
        "qmp-shell: connected to \(Self.serverName(client)) at \(place)"
    }

    /// "QEMU 7.2.22", from the greeting; the guest agent sends none.
    private static func serverName(_ client: QMPClient) -> String {
        client.greeting.map { "QEMU \($0.version)" } ?? "the guest agent"
    }

    /// What the shell says when it stops trying.
    public func gaveUpNotice(_ error: QMPError) -> String {
        "qmp-shell: gave up reconnecting to \(place): \(error)"
    }
}
