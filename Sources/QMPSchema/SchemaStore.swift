import QMP
import ShellSystem
import Synchronization

/// The schema of the connected QEMU, and its device catalog, for the completer and the runner.
///
/// It is loaded once per connection with `query-qmp-schema`. The ``SchemaCache`` only makes the
/// first Tab fast: the cache is keyed by what the server claims to be (version, package, target),
/// so a server that lied once, or a file someone else wrote, must not decide what the shell
/// checks. The cached schema is used for completion (``current``) while the server's is fetched,
/// then compared with it: the same, it stays; different, the server's replaces it, in memory and
/// in the cache. The runner awaits ``schema()``, which is always the server's own. A new
/// connection (after `--reconnect`) loads its own. A server without `query-qmp-schema` (the guest
/// agent, a very old QEMU) simply has no schema.
public final class SchemaStore: Sendable {
    /// How the schema of the current connection was obtained, for tests and the benchmark.
    public enum Origin: Sendable, Equatable {
        /// The cached schema, confirmed by the server's.
        case cache
        /// The server's, the cache having none or another.
        case server
    }

    private struct State {
        /// The connection the rest is about.
        var client: QMPClient?
        var loading: Task<QMPSchema?, Never>?
        var schema: QMPSchema?
        /// The cached schema, for completion until the server's is there.
        var unconfirmed: QMPSchema?
        var origin: Origin?
        var devices: DeviceCatalog?
    }

    /// The client of the connection in use now (it changes with `--reconnect`; `nil` while
    /// disconnected or in a dry run).
    private let currentClient: @Sendable () -> QMPClient?
    private let cache: SchemaCache?
    private let state = Mutex(State())
    private let notify: @Sendable (String) -> Void
    /// What was said already: each notice once per run, whatever the reconnections.
    private let said = Mutex(Set<String>())

    /// A store for the connections `currentClient` returns one after the other, caching schemas
    /// in `cache` (none: always fetch). `notify` is told, once, when the server's schema cannot be
    /// used, or only in part.
    public init(
        currentClient: @escaping @Sendable () -> QMPClient?, cache: SchemaCache?,
        notify: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.currentClient = currentClient
        self.cache = cache
        self.notify = notify
    }

    /// The schema of the current connection if it is loaded, or until then the cached one (for
    /// completion: nothing is checked against it). Never waits.
    public var current: QMPSchema? {
        guard let client = currentClient() else { return nil }
        return state.withLock { $0.client === client ? $0.schema ?? $0.unconfirmed : nil }
    }

    /// Where the current schema came from, once loaded.
    public var origin: Origin? {
        guard let client = currentClient() else { return nil }
        return state.withLock { $0.client === client ? $0.origin : nil }
    }

    /// The device catalog of the current connection.
    public var devices: DeviceCatalog? {
        guard let client = currentClient() else { return nil }
        return state.withLock { state in
            if state.client !== client { reset(&state, for: client) }
            return state.devices
        }
    }

    /// Starts loading the current connection's schema unless it is loaded or loading.
    public func startLoading() {
        _ = loadingTask()
    }

    /// The longest the server may take to send its schema (`query-target` and `query-qmp-schema`
    /// together). A QEMU stopped in a debugger never answers: the shell then runs without the
    /// schema, saying so once, rather than leaving the line that needed it waiting for good.
    public static let fetchTimeout: Duration = .seconds(10)

    /// The current connection's schema as the server gives it, loading it first if needed; `nil`
    /// without a connection, if the server has none, or at once when the calling task is
    /// cancelled (Ctrl-C); the loading goes on for the next line.
    public func schema() async -> QMPSchema? {
        // Loaded: every line of a long script asks, and need not wait on anything. Only the
        // server's own schema counts here: a cached one, until the server confirms it, serves Tab.
        if let client = currentClient(), let loaded = state.withLock({ $0.client === client ? $0.schema : nil }) {
            return loaded
        }
        guard let task = loadingTask() else { return nil }
        let waiter = CancellableWait<QMPSchema?>()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                waiter.start(continuation)
                Task { waiter.finish(await task.value) }
                if Task.isCancelled { waiter.finish(nil) }
            }
        } onCancel: {
            waiter.finish(nil)
        }
    }

    private func loadingTask() -> Task<QMPSchema?, Never>? {
        guard let client = currentClient() else { return nil }
        return state.withLock { state in
            if state.client !== client { reset(&state, for: client) }
            if let loading = state.loading { return loading }
            let task = Task { [cache] () -> QMPSchema? in
                let loaded = await Self.load(from: client, cache: cache, notify: self.notifyOnce) { cached in
                    self.state.withLock { state in
                        if state.client === client { state.unconfirmed = cached }
                    }
                }
                self.state.withLock { state in
                    guard state.client === client else { return }
                    state.schema = loaded?.schema
                    state.unconfirmed = nil
                    state.origin = loaded?.origin
                    // Before negotiation (-N) every command fails: try again on the next line.
                    if loaded == nil && !client.configuration.negotiate { state.loading = nil }
                }
                return loaded?.schema
            }
            state.loading = task
            return task
        }
    }

    private func notifyOnce(_ text: String) {
        if said.withLock({ $0.insert(text).inserted }) { notify(text) }
    }

    private func reset(_ state: inout State, for client: QMPClient) {
        state = State(client: client, devices: DeviceCatalog(client: client))
    }

    /// Loads the schema of `client`'s server with `query-qmp-schema`, handing the one in `cache`
    /// (if any) to `early` first, for completion while the server answers. The cached schema is
    /// kept if it is the server's, and replaced (or removed, if the server's cannot be used)
    /// otherwise. `notify` hears what the model skipped, or why the server's schema cannot be used
    /// at all.
    static func load(
        from client: QMPClient, cache: SchemaCache?, notify: (String) -> Void = { _ in },
        early: (QMPSchema) -> Void = { _ in }
    ) async -> (schema: QMPSchema, origin: Origin)? {
        guard client.configuration.mode == .qmp, let greeting = client.greeting else { return nil }
        let deadline = ContinuousClock.now + fetchTimeout
        func remaining() -> Duration { max(deadline - ContinuousClock.now, .zero) }
        let target: String
        do throws(QMPError) {
            // Before negotiation (-N) this fails like every command: no schema yet.
            guard let arch = try await client.execute("query-target", timeout: remaining())["arch"]?.stringValue
            else { return nil }
            target = arch
        } catch {
            if case .timedOut = error { notify(Self.noSchemaInTime) }
            return nil
        }
        let key = SchemaCache.Key(version: greeting.version, package: greeting.package, target: target)
        let version = QEMUVersion(major: greeting.major, minor: greeting.minor)
        let stored = cache?.load(key)
        let cached = stored.flatMap { try? QMPSchema(introspection: $0, version: version) }
        if let cached { early(cached) }
        let introspection: JSONValue
        do throws(QMPError) {
            introspection = try await client.execute("query-qmp-schema", timeout: remaining())
        } catch {
            if case .timedOut = error { notify(Self.noSchemaInTime) }
            return nil
        }
        if let cached, introspection == stored {
            if let skipped = cached.skipped { notify(skipped) }
            return (cached, .cache)
        }
        let schema: QMPSchema
        do throws(SchemaError) {
            schema = try QMPSchema(introspection: introspection, version: version)
        } catch {
            if stored != nil { cache?.remove(key) }
            notify("the server's schema cannot be used (\(error)): arguments are sent unchecked")
            return nil
        }
        if let skipped = schema.skipped { notify(skipped) }
        cache?.save(introspection, for: key)
        return (schema, .server)
    }
}

extension SchemaStore {
    static let noSchemaInTime =
        "the server did not send its schema within \(fetchTimeout.secondsText): running without it "
        + "(arguments are typed by their syntax and sent unchecked; no argument completion)"
}

/// One wait that ends with the first of a result and a cancellation: the continuation is resumed
/// once, whichever comes first.
private final class CancellableWait<Value: Sendable>: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<Value, Never>?, result: Value?)>((nil, nil))

    func start(_ continuation: CheckedContinuation<Value, Never>) {
        let early = state.withLock { state -> Value? in
            if let result = state.result { return result }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(returning: early) }
    }

    func finish(_ value: Value) {
        let continuation = state.withLock { state -> CheckedContinuation<Value, Never>? in
            guard state.result == nil else { return nil }
            state.result = value
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(returning: value)
    }
}
