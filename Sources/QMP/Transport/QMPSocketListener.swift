import Glibc
import Synchronization

/// A UNIX socket path we listen on, so that a QEMU started with `-qmp unix:PATH` connects to us
/// (launch mode). Accept a connection with ``QMPClient/accept(from:timeout:)``.
public final class QMPSocketListener: Sendable {
    /// The socket's path.
    public let path: String
    let descriptor: Int32
    private let closed = Atomic<Bool>(false)

    /// Listens on `path`, which must not exist yet.
    public init(path: String) throws(QMPError) {
        self.path = path
        self.descriptor = try UnixSocket.listen(path: path)
    }

    /// Stops listening and removes the socket file. Calling it again does nothing.
    public func close() {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        unlink(path)
        _ = Glibc.close(descriptor)
    }
}
