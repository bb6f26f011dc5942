import QMP
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

    private let link: ServerLink
    private let cache: SchemaCache?
    private let state = Mutex(State())
    private let notify: @Sendable (String) -> Void
    /// What was said already: each notice once per run, whatever the reconnections.
    private let said = Mutex(Set<String>())

    /// A store for the connections of `link`, caching schemas in `cache` (none: always fetch).
    /// `notify` is told, once, when the server's schema cannot be used, or only in part.
    public init(link: ServerLink, cache: SchemaCache?, notify: @escaping @Sendable (String) -> Void = { _ in }) {
        self.link = link
        self.cache = cache
        self.notify = notify
    }

    /// The schema of the current connection if it is loaded, or until then the cached one (for
    /// completion: nothing is checked against it). Never waits.
    public var current: QMPSchema? {
        guard let client = link.client else { return nil }
        return state.withLock { $0.client === client ? $0.schema ?? $0.unconfirmed : nil }
    }

    /// Where the current schema came from, once loaded.
    public var origin: Origin? {
        guard let client = link.client else { return nil }
        return state.withLock { $0.client === client ? $0.origin : nil }
    }

    /// The device catalog of the current connection.
    public var devices: DeviceCatalog? {
        guard let client = link.client else { return nil }
        return state.withLock { state in
            if state.client !== client { reset(&state, for: client) }
            return state.devices
        }
    }

    /// Starts loading the current connection's schema unless it is loaded or loading.
    public func startLoading() {
        _ = loadingTask()
    }

    /// The current connection's schema as the server gives it, loading it first if needed; `nil`
    /// without a connection or if the server has none.
    public func schema() async -> QMPSchema? {
        guard let task = loadingTask() else { return nil }
        return await task.value
    }

    private func loadingTask() -> Task<QMPSchema?, Never>? {
        guard let client = link.client else { return nil }
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
        // Before negotiation (-N) this fails like every command: no schema yet.
        guard let target = (try? await client.execute("query-target"))?["arch"]?.stringValue else { return nil }
        let key = SchemaCache.Key(version: greeting.version, package: greeting.package, target: target)
        let version = QEMUVersion(major: greeting.major, minor: greeting.minor)
        let stored = cache?.load(key)
        let cached = stored.flatMap { try? QMPSchema(introspection: $0, version: version) }
        if let cached { early(cached) }
        guard let introspection = try? await client.execute("query-qmp-schema") else { return nil }
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
