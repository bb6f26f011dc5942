import Dispatch
import QMP
import Synchronization

/// Names only the running VM knows (node names, device ids, job ids, QOM paths...), asked of the
/// server when Tab wants them and kept a short while.
///
/// Tab runs on the terminal thread, so ``values(_:)`` waits for the server at most ``waitBound``:
/// a server that answers later fills the cache for the next Tab, and a stalled one gives no
/// candidates instead of a frozen prompt. Answers are dropped when they may have changed: after
/// ``freshFor``, when the shell runs a line (``invalidate()``), and on the events that change them
/// (a job's status, a device's removal).
public final class LiveValues: Sendable {
    /// The longest Tab waits for the server.
    public static let defaultWaitBound: Duration = .milliseconds(100)
    /// How long an answer is kept when nothing says it changed.
    static let freshFor: Duration = .seconds(5)
    /// The longest a question may take before a later Tab asks again (a stalled server).
    static let fetchTimeout: Duration = .seconds(5)

    private struct Entry {
        var values: [String]
        var fetched: ContinuousClock.Instant
    }

    private final class Fetch: Sendable {
        let waiters = Mutex<[DispatchSemaphore]>([])
        let done = Atomic<Bool>(false)
    }

    private struct State {
        var client: QMPClient?
        var listener: EventListener?
        var entries: [LiveValueKind: Entry] = [:]
        var fetches: [LiveValueKind: Fetch] = [:]
    }

    private let link: ServerLink
    private let waitBound: Duration
    private let state = Mutex(State())

    public init(link: ServerLink, waitBound: Duration = LiveValues.defaultWaitBound) {
        self.link = link
        self.waitBound = waitBound
    }

    /// The values of `kind`, from the cache or the server, or `nil` when the server has not answered
    /// within the wait bound (or there is no connection). Blocks the calling thread at most
    /// ``waitBound``.
    public func values(_ kind: LiveValueKind) -> [String]? {
        guard let client = link.client else { return nil }
        let semaphore = DispatchSemaphore(value: 0)
        let cached = state.withLock { state -> [String]? in
            attach(client, &state)
            if let entry = state.entries[kind], ContinuousClock.now - entry.fetched < Self.freshFor {
                return entry.values
            }
            let fetch: Fetch
            if let running = state.fetches[kind] {
                fetch = running
            } else {
                fetch = Fetch()
                state.fetches[kind] = fetch
                Task { await self.run(fetch, kind, client) }
            }
            fetch.waiters.withLock { $0.append(semaphore) }
            return nil
        }
        if let cached { return cached }
        let milliseconds = Int(waitBound / .milliseconds(1))
        _ = semaphore.wait(timeout: .now() + .milliseconds(milliseconds))
        return state.withLock { state in
            guard state.client === client, let entry = state.entries[kind] else { return nil }
            return entry.values
        }
    }

    /// Forgets every answer (the shell ran a line, which may have added or removed names).
    public func invalidate() {
        state.withLock { $0.entries.removeAll() }
    }

    /// Follows a new connection: answers of the old one are dropped, and its events keep the
    /// cache current.
    private func attach(_ client: QMPClient, _ state: inout State) {
        guard state.client !== client else { return }
        if let old = state.client, let listener = state.listener { old.unregister(listener) }
        state = State(client: client)
        // A listener that keeps nothing: seeing the event is all it is for.
        let listener = EventListener(capacity: 1) { [weak self] event in
            self?.forget(after: event)
            return false
        }
        state.listener = listener
        client.register(listener)
    }

    private func forget(after event: QMPEvent) {
        let name = event.name
        let jobs = name == "JOB_STATUS_CHANGE" || name.hasPrefix("BLOCK_JOB_")
        guard jobs || name == "DEVICE_DELETED" else { return }
        state.withLock { state in
            state.entries = state.entries.filter { kind, _ in
                switch kind {
                case .jobIDs, .blockNames: return false
                case .deviceIDs, .qomChildren, .qomProperties: return jobs
                default: return true
                }
            }
        }
    }

    private func run(_ fetch: Fetch, _ kind: LiveValueKind, _ client: QMPClient) async {
        let values = await Self.fetch(kind, from: client)
        state.withLock { state in
            if state.fetches[kind] === fetch { state.fetches[kind] = nil }
            if let values, state.client === client { state.entries[kind] = Entry(values: values, fetched: .now) }
        }
        for waiter in fetch.waiters.withLock({ $0 }) { waiter.signal() }
    }

    // MARK: - Asking the server

    /// The values of `kind` as the server gives them now, sorted, or `nil` if it could not say.
    static func fetch(_ kind: LiveValueKind, from client: QMPClient) async -> [String]? {
        func ask(_ command: String, _ arguments: JSONObject? = nil) async -> JSONValue? {
            try? await client.execute(command, arguments: arguments, timeout: fetchTimeout)
        }
        func names(_ reply: JSONValue?, _ key: String) -> [String] {
            (reply?.arrayValue ?? []).compactMap { $0[key]?.stringValue }.filter { !$0.isEmpty }
        }
        func children(of path: String, links: Bool) async -> [String]? {
            guard let listed = await ask("qom-list", ["path": .string(path)])?.arrayValue else { return nil }
            return listed.compactMap { property in
                let type = property["type"]?.stringValue ?? ""
                guard type.hasPrefix("child<") || (links && type.hasPrefix("link<")) else { return nil }
                return property["name"]?.stringValue
            }
        }
        var values: [String]?
        switch kind {
        case .blockNames:
            var nodes = await ask("query-named-block-nodes", ["flat": true])
            if nodes == nil { nodes = await ask("query-named-block-nodes") }  // before QEMU 5.0
            values = names(nodes, "node-name") + names(await ask("query-block"), "device")
        case .deviceIDs:
            values = await children(of: "/machine/peripheral", links: false)
        case .jobIDs:
            values = names(await ask("query-jobs"), "id") + names(await ask("query-block-jobs"), "device")
        case .objectIDs:
            values = await children(of: "/objects", links: false)
        case .chardevIDs:
            values = names(await ask("query-chardev"), "label")
        case .netdevIDs:
            let text = await ask("human-monitor-command", ["command-line": "info network"])?.stringValue
            values = text.map(netdevIDs(inInfoNetwork:))
        case .qomChildren(let path):
            values = await children(of: path, links: true)
        case .qomProperties(let path):
            values = names(await ask("qom-list", ["path": .string(path)]), "name")
        }
        return values.map { Array(Set($0)).sorted() }
    }

    /// The netdev ids in HMP's `info network`: `NAME: index=...` lines, at the top or below a hub
    /// or a NIC (` \ NAME: ...`), without the NICs themselves (`type=nic`) and the hubs.
    static func netdevIDs(inInfoNetwork text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            var entry = line.drop { $0 == " " || $0 == "\\" }
            if entry.hasPrefix("hub ") || entry.contains("type=nic") { return nil }
            if let colon = entry.firstIndex(of: ":") { entry = entry[..<colon] }
            let name = String(entry).trimmingWhitespace()
            return name.isEmpty ? nil : name
        }
    }
}
