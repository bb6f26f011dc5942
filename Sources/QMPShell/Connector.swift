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
                if attempt == 1 { notice("qmp-shell: \(error); retrying every \(retryPolicy.delay.secondsText)") }
                try? await Task.sleep(for: retryPolicy.delay)
                if Task.isCancelled { return .failure(error) }
            }
        }
    }
}

extension Connector {
    /// What the shell says when the connection is lost and it tries again.
    public func reconnectingNotice(after cause: QMPError) -> String {
        "qmp-shell: \(cause); reconnecting to \(place)"
    }

    /// What the shell says once `client` is connected again.
    public func reconnectedNotice(to client: QMPClient) -> String {
        let server = client.greeting.map { "QEMU \($0.version)" } ?? "the guest agent"
        return "qmp-shell: reconnected to \(server) at \(place)"
    }

    /// What the shell says when it stops trying.
    public func gaveUpNotice(_ error: QMPError) -> String {
        "qmp-shell: gave up reconnecting to \(place): \(error)"
    }
}
