import CLibvirt
import Glibc
import Synchronization
import QMP

/// A running domain, reached through libvirt's QEMU passthrough: a whole QMP command in, a whole
/// reply out, and QEMU's events from a callback.
///
/// What differs from a QMP socket: there is no greeting (libvirt negotiated long ago), libvirt
/// refuses a command that carries its own `id`, and replies carry libvirt's ids (`libvirt-42`).
public final class LibvirtDomain: @unchecked Sendable {
    public let connection: LibvirtConnection
    /// The domain's name (also when it was found by UUID or id).
    public let name: String
    let pointer: virDomainPtr

    init(connection: LibvirtConnection, pointer: virDomainPtr) {
        self.connection = connection
        self.pointer = pointer
        name = connection.api.virDomainGetName(pointer).map { String(cString: $0) } ?? "?"
    }

    deinit {
        _ = connection.api.virDomainFree(pointer)
    }

    /// Sends `command` (one QMP message as JSON text, without an `id`) and returns QEMU's reply as
    /// libvirt hands it back (a JSON object with libvirt's `id`). `descriptors` are passed to QEMU
    /// with the command, on a connection to a local daemon only.
    ///
    /// A QMP error is a reply like any other; a failure of the call itself (the domain stopped,
    /// the daemon went away, libvirt refused the command) throws ``QMPError/disconnected(_:)`` when
    /// the domain or the connection is gone and ``QMPError/invalidState(_:)`` otherwise.
    public func monitorCommand(_ command: String, passing descriptors: [Int32] = []) async throws(QMPError) -> String {
        let result: Result<String, QMPError> = await withCheckedContinuation { continuation in
            monitorCommand(command, passing: descriptors) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// Like ``monitorCommand(_:passing:)``, calling `completion` (on the connection's queue) instead:
    /// commands sent this way run one at a time in the order they were sent.
    public func monitorCommand(
        _ command: String, passing descriptors: [Int32] = [],
        completion: @escaping @Sendable (Result<String, QMPError>) -> Void
    ) {
        connection.queue.async { [self] in completion(callMonitor(command, passing: descriptors)) }
    }

    /// Makes the passthrough call on the caller's thread and waits for QEMU's reply: the blocking
    /// part of ``monitorCommand(_:passing:completion:)``, for a caller that has nothing else to do
    /// meanwhile (``LibvirtTransport``'s lock-step calls).
    func callMonitor(_ command: String, passing descriptors: [Int32]) -> Result<String, QMPError> {
        if !descriptors.isEmpty, connection.isRemote {
            return .failure(
                .invalidArgument(
                    "file descriptors can only be passed to a domain of a local libvirtd, not \(connection.uri)"))
        }
        let api = connection.api
        var result: UnsafeMutablePointer<CChar>?
        let status: Int32
        if descriptors.isEmpty {
            status = api.virDomainQemuMonitorCommand(pointer, command, &result, 0)
        } else {
            var files = descriptors
            var returnedCount: UInt32 = 0
            var returned: UnsafeMutablePointer<Int32>?
            status = api.virDomainQemuMonitorCommandWithFiles(
                pointer, command, UInt32(files.count), &files, &returnedCount, &returned, &result, 0)
            if let returned {
                for index in 0..<Int(returnedCount) { close(returned[index]) }
                free(returned)
            }
        }
        guard status == 0, let result else {
            let message = Libvirt.lastError(api)
            let gone = api.virDomainIsActive(pointer) != 1
            return .failure(gone ? .disconnected("domain '\(name)': \(message)") : .invalidState(message))
        }
        defer { free(result) }
        return .success(String(cString: result))
    }

    /// Calls `handler` for each QEMU event of this domain, on libvirt's event thread, until the
    /// returned registration is cancelled.
    public func monitorEvents(_ handler: @escaping @Sendable (LibvirtMonitorEvent) -> Void) async throws(QMPError)
        -> LibvirtEventRegistration
    {
        let box = Unmanaged.passRetained(MonitorEventHandler(handler))
        let id = try await connection.blocking { [self] () -> Result<Int32, QMPError> in
            let api = connection.api
            let id = api.virConnectDomainQemuMonitorEventRegister(
                connection.pointer, pointer, nil, monitorEventCallback, box.toOpaque(), releaseHandler, 0)
            guard id >= 0 else {
                box.release()
                return .failure(
                    .couldNotConnect("could not receive the events of '\(self.name)': \(Libvirt.lastError(api))"))
            }
            return .success(id)
        }
        return LibvirtEventRegistration(connection: connection, id: id, kind: .qemuMonitor)
    }

    /// Calls `handler` once, on libvirt's event thread, when the domain stops (shut down,
    /// destroyed, crashed, migrated away), until the returned registration is cancelled.
    public func onStop(_ handler: @escaping @Sendable () -> Void) async throws(QMPError) -> LibvirtEventRegistration {
        let box = Unmanaged.passRetained(StopHandler(handler))
        let id = try await connection.blocking { [self] () -> Result<Int32, QMPError> in
            let id = qmpshell_libvirt_watch_lifecycle(
                connection.pointer, pointer, lifecycleCallback, box.toOpaque(), releaseStopHandler)
            guard id >= 0 else {
                box.release()
                return .failure(
                    .couldNotConnect("could not watch '\(self.name)' for its end: \(Libvirt.lastError(connection.api))")
                )
            }
            return .success(id)
        }
        return LibvirtEventRegistration(connection: connection, id: id, kind: .domain)
    }
}

final class StopHandler: @unchecked Sendable {
    let handler: @Sendable () -> Void
    init(_ handler: @escaping @Sendable () -> Void) { self.handler = handler }
}

private let lifecycleCallback: qmpshell_lifecycle_fn = { event, _, opaque in
    guard let opaque, event == Int32(VIR_DOMAIN_EVENT_STOPPED.rawValue) else { return }
    Unmanaged<StopHandler>.fromOpaque(opaque).takeUnretainedValue().handler()
}

private let releaseStopHandler: virFreeCallback = { opaque in
    guard let opaque else { return }
    Unmanaged<StopHandler>.fromOpaque(opaque).release()
}

/// One QEMU event as libvirt passes it on: the name, QEMU's timestamp, and `data` as JSON text.
public struct LibvirtMonitorEvent: Sendable {
    public let name: String
    public let seconds: Int64
    public let microseconds: UInt32
    /// The event's `data` object as JSON text, or `nil` when QEMU sent none.
    public let details: String?
}

/// A registration for a domain's events; ``cancel()`` ends it (deinitialization does too).
public final class LibvirtEventRegistration: @unchecked Sendable {
    /// Which of libvirt's deregistration calls ends it.
    enum Kind { case qemuMonitor, domain }

    private let connection: LibvirtConnection
    private let id: Int32
    private let kind: Kind
    private let done = Mutex(false)

    init(connection: LibvirtConnection, id: Int32, kind: Kind) {
        self.connection = connection
        self.id = id
        self.kind = kind
    }

    /// Stops the events; the handler is released by libvirt once no call to it is in progress.
    public func cancel() {
        let first = done.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        switch kind {
        case .qemuMonitor: _ = connection.api.virConnectDomainQemuMonitorEventDeregister(connection.pointer, id)
        case .domain: _ = connection.api.virConnectDomainEventDeregisterAny(connection.pointer, id)
        }
    }

    deinit { cancel() }
}

final class MonitorEventHandler: @unchecked Sendable {
    let handler: @Sendable (LibvirtMonitorEvent) -> Void
    init(_ handler: @escaping @Sendable (LibvirtMonitorEvent) -> Void) { self.handler = handler }
}

private let monitorEventCallback: virConnectDomainQemuMonitorEventCallback = {
    _, _, event, seconds, microseconds, details, opaque in
    guard let opaque, let event else { return }
    let handler = Unmanaged<MonitorEventHandler>.fromOpaque(opaque).takeUnretainedValue()
    handler.handler(
        LibvirtMonitorEvent(
            name: String(cString: event), seconds: seconds, microseconds: microseconds,
            details: details.map { String(cString: $0) }))
}

private let releaseHandler: virFreeCallback = { opaque in
    guard let opaque else { return }
    Unmanaged<MonitorEventHandler>.fromOpaque(opaque).release()
}
