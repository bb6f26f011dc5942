#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A UNIX socket path we listen on, so that a QEMU started with `-qmp unix:PATH` connects to us
/// (launch mode). Accept a connection with ``QMPClient/accept(from:timeout:)``.
public final class QMPSocketListener: Sendable {
    /// The socket's path.
    public let path: String
    let descriptor: Int32

    /// Listens on `path`, which must not exist yet.
    public init(path: String) throws(QMPError) {
        self.path = path
        self.descriptor = try UnixSocket.listen(path: path)
    }

    /// Stops listening and removes the socket file.
    public func close() {
        unlink(path)
        _ = Glibc.close(descriptor)
    }
}
