/// A QEMU that a test kills and starts again at the same socket path, as a VM that crashes and is
/// restarted: what `--reconnect` follows.
public final class RestartableQEMU {
    /// Where each QEMU of it listens for the client under test.
    public let socketPath: String
    /// The QEMU running now; `nil` between ``kill()`` and ``restart()``.
    public private(set) var current: QEMUInstance?
    private let directory: TemporaryDirectory

    /// Starts the first QEMU.
    public init() throws {
        directory = try TemporaryDirectory()
        socketPath = directory.file("vm.sock")
        current = try QEMUInstance(socketPath: socketPath)
    }

    /// Kills the QEMU running now at once (SIGKILL), as a crash would.
    public func kill() {
        current?.kill()
        current = nil
    }

    /// Starts a new QEMU at the same path (killing the one running, if any) and returns it.
    @discardableResult
    public func restart() throws -> QEMUInstance {
        kill()
        let qemu = try QEMUInstance(socketPath: socketPath)
        current = qemu
        return qemu
    }
}
