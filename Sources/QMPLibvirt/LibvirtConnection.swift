import CLibvirt
import Dispatch
import Glibc
import QMP
import Synchronization

/// A connection to a libvirt daemon: `qemu:///system` on this host, `qemu+ssh://host/system` on
/// another, or any URI libvirt takes.
///
/// libvirt's calls block (each is a request to the daemon and its answer), so they run on a queue
/// of the connection's own, never on Swift's cooperative threads. libvirt's event loop runs on a
/// thread of its own (``LibvirtEventLoop``), which is where domain events and the notice of a lost
/// daemon come from.
public final class LibvirtConnection: @unchecked Sendable {
    /// The URI as the user gave it.
    public let uri: String
    /// Whether the daemon is on another host (file descriptors cannot be passed there).
    public let isRemote: Bool

    let api: qmpshell_libvirt
    let pointer: virConnectPtr
    /// Where the blocking calls run; libvirt's connections are thread-safe, the queue keeps them
    /// off the cooperative pool.
    let queue: DispatchQueue
    private let closeHandlers = CloseHandlers()

    private init(uri: String, api: qmpshell_libvirt, pointer: virConnectPtr, queue: DispatchQueue) {
        self.uri = uri
        self.api = api
        self.pointer = pointer
        self.queue = queue
        isRemote = Self.namesAHost(uri)
    }

    /// Whether `uri` names a daemon on another host (`qemu+ssh://host/system`), where descriptors
    /// cannot be passed; `qemu:///system` and `qemu+unix:///system` are this host's.
    static func namesAHost(_ uri: String) -> Bool {
        guard let separator = uri.firstRange(of: "://") else { return false }
        let scheme = uri[..<separator.lowerBound]
        // The authority: up to the path or the query, without `user@` and `:port`.
        let authority = uri[separator.upperBound...].prefix { $0 != "/" && $0 != "?" }
        let hostAndPort = authority.split(separator: "@", omittingEmptySubsequences: false).last ?? ""
        let host =
            hostAndPort.hasPrefix("[")
            ? hostAndPort.prefix { $0 != "]" } : hostAndPort.prefix { $0 != ":" }
        return !host.isEmpty && !scheme.hasSuffix("+unix")
    }

    /// Opens a connection (loading libvirt first if need be). Throws
    /// ``QMPError/couldNotConnect(_:)`` with libvirt's reason: the daemon is not running, the
    /// socket refuses us, the host cannot be reached, libvirt is not installed.
    public static func open(_ uri: String) async throws(QMPError) -> LibvirtConnection {
        try LibvirtEventLoop.start()
        let api = try Libvirt.functions()
        let queue = DispatchQueue(label: "libvirt \(uri)")
        let opened: Result<virConnectPtr, QMPError> = await withCheckedContinuation { continuation in
            queue.async {
                guard let pointer = api.virConnectOpen(uri) else {
                    continuation.resume(
                        returning: .failure(
                            .couldNotConnect("could not connect to libvirt at \(uri): \(Libvirt.lastError(api))")))
                    return
                }
                // A daemon that stops answering (a remote host gone) is noticed within 15 s.
                _ = api.virConnectSetKeepAlive(pointer, 5, 3)
                continuation.resume(returning: .success(pointer))
            }
        }
        let connection = LibvirtConnection(uri: uri, api: api, pointer: try opened.get(), queue: queue)
        connection.watchForClose()
        return connection
    }

    deinit {
        _ = api.virConnectUnregisterCloseCallback(pointer, closeCallback)
        _ = api.virConnectClose(pointer)
    }

    /// Runs a blocking libvirt call on the connection's queue.
    func blocking<Value: Sendable>(_ call: @escaping @Sendable () -> Result<Value, QMPError>) async throws(QMPError)
        -> Value
    {
        let result: Result<Value, QMPError> = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: call()) }
        }
        return try result.get()
    }

    /// The running domain named `name`, which may also be a UUID or an id, as virsh takes it.
    public func domain(_ name: String) async throws(QMPError) -> LibvirtDomain {
        let found = try await blocking { [api, self] () -> Result<DomainHandle, QMPError> in
            api.virResetLastError()
            var found = api.virDomainLookupByName(self.pointer, name)
            if found == nil, name.count == 36 { found = api.virDomainLookupByUUIDString(self.pointer, name) }
            if found == nil, let id = Int32(name) { found = api.virDomainLookupByID(self.pointer, id) }
            guard let domain = found else {
                return .failure(.couldNotConnect("no domain '\(name)' on \(self.uri)"))
            }
            guard api.virDomainIsActive(domain) == 1 else {
                _ = api.virDomainFree(domain)
                return .failure(.couldNotConnect("domain '\(name)' on \(self.uri) is not running"))
            }
            return .success(DomainHandle(pointer: domain))
        }
        return LibvirtDomain(connection: self, pointer: found.pointer)
    }

    /// The names of the running domains, sorted.
    public func runningDomainNames() async throws(QMPError) -> [String] {
        try await blocking { [api, self] () -> Result<[String], QMPError> in
            var list: UnsafeMutablePointer<virDomainPtr?>?
            let count = api.virConnectListAllDomains(
                self.pointer, &list, UInt32(VIR_CONNECT_LIST_DOMAINS_ACTIVE.rawValue))
            guard count >= 0, let list else {
                return .failure(
                    .couldNotConnect("could not list the domains of \(self.uri): \(Libvirt.lastError(api))"))
            }
            defer { free(list) }
            var names: [String] = []
            for index in 0..<Int(count) {
                guard let domain = list[index] else { continue }
                if let name = api.virDomainGetName(domain) { names.append(String(cString: name)) }
                _ = api.virDomainFree(domain)
            }
            return .success(names.sorted())
        }
    }

    /// Calls `handler` once, with the reason, if the connection to the daemon is lost (the daemon
    /// stopped, the network went away, keepalive gave up).
    public func onClose(_ handler: @escaping @Sendable (String) -> Void) {
        closeHandlers.add(handler)
    }

    private func watchForClose() {
        let opaque = Unmanaged.passUnretained(closeHandlers).toOpaque()
        _ = api.virConnectRegisterCloseCallback(pointer, closeCallback, opaque, nil)
    }
}

/// libvirt's close callback: hands the reason to the connection's handlers.
private let closeCallback: virConnectCloseFunc = { _, reason, opaque in
    guard let opaque else { return }
    let text: String
    switch reason {
    case Int32(VIR_CONNECT_CLOSE_REASON_EOF.rawValue): text = "libvirtd closed the connection"
    case Int32(VIR_CONNECT_CLOSE_REASON_KEEPALIVE.rawValue): text = "libvirtd stopped answering (keepalive timed out)"
    case Int32(VIR_CONNECT_CLOSE_REASON_CLIENT.rawValue): text = "the connection to libvirtd was closed"
    default: text = "the connection to libvirtd failed"
    }
    Unmanaged<CloseHandlers>.fromOpaque(opaque).takeUnretainedValue().fire(text)
}

/// A domain pointer on its way from the connection's queue to the task that asked for it.
struct DomainHandle: @unchecked Sendable {
    let pointer: virDomainPtr
}

/// The handlers waiting for a connection's loss; each runs once.
final class CloseHandlers: Sendable {
    /// The handlers still waiting, and the reason once the connection is lost.
    private let state = Mutex<(handlers: [@Sendable (String) -> Void], reason: String?)>(([], nil))

    func add(_ handler: @escaping @Sendable (String) -> Void) {
        let lost = state.withLock { state -> String? in
            if state.reason == nil { state.handlers.append(handler) }
            return state.reason
        }
        if let lost { handler(lost) }
    }

    func fire(_ text: String) {
        let waiting = state.withLock { state -> [@Sendable (String) -> Void] in
            guard state.reason == nil else { return [] }
            state.reason = text
            defer { state.handlers = [] }
            return state.handlers
        }
        for handler in waiting { handler(text) }
    }
}
