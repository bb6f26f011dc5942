import Glibc

/// Thin wrappers over the socket calls NIO does not offer for our needs: a UNIX connection whose
/// descriptor we keep (to pass file descriptors with SCM_RIGHTS), and accepting a single
/// connection on a listening path (launch mode).
enum UnixSocket {
    /// Why a system call failed, in words: "No such file or directory".
    static func errorText(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }

    /// Retries a call interrupted by a signal, once, here, so no caller has to.
    static func retryingOnInterrupt(_ call: () -> Int32) -> Int32 {
        while true {
            let result = call()
            if result == -1 && errno == EINTR { continue }
            return result
        }
    }

    private static func withAddress<T>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T)
        throws(QMPError)
        -> T
    {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        let bytes = Array(path.utf8)
        guard bytes.count < capacity else {
            throw .couldNotConnect("socket path too long (\(bytes.count) bytes, at most \(capacity - 1)): \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }

    private static func makeSocket() throws(QMPError) -> Int32 {
        #if canImport(Glibc)
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
            let fd = socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw .couldNotConnect("could not create a socket: \(errorText())") }
        return fd
    }

    /// Connects to the UNIX socket at `path` and returns the connected descriptor.
    static func connect(path: String) throws(QMPError) -> Int32 {
        let fd = try makeSocket()
        let result = try withAddress(path) { address, length in
            retryingOnInterrupt { Glibc.connect(fd, address, length) }
        }
        if result != 0 {
            let code = errno
            close(fd)
            var reason = errorText(code)
            var info = stat()
            if code == ECONNREFUSED && stat(path, &info) == 0 && (info.st_mode & S_IFMT) != S_IFSOCK {
                reason = "not a socket"
            }
            throw .couldNotConnect("could not connect to \(path): \(reason)")
        }
        return fd
    }

    /// Makes a listening socket at `path` (replacing nothing: the path must not exist).
    static func listen(path: String) throws(QMPError) -> Int32 {
        let fd = try makeSocket()
        let bound = try withAddress(path) { address, length in bind(fd, address, length) }
        guard bound == 0, Glibc.listen(fd, 1) == 0 else {
            let reason = errorText()
            close(fd)
            throw .couldNotConnect("could not listen on \(path): \(reason)")
        }
        return fd
    }

    /// Waits up to `timeoutMilliseconds` for one connection on a listening socket.
    static func acceptOne(listening fd: Int32, timeoutMilliseconds: Int32) throws(QMPError) -> Int32 {
        var pollFD = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = retryingOnInterrupt { poll(&pollFD, 1, timeoutMilliseconds) }
        guard ready > 0 else {
            throw .couldNotConnect(ready == 0 ? "no connection arrived in time" : "poll failed: \(errorText())")
        }
        let connection = retryingOnInterrupt { accept(fd, nil, nil) }
        guard connection >= 0 else { throw .couldNotConnect("accept failed: \(errorText())") }
        return connection
    }

    /// Sends one space byte carrying `descriptors` as SCM_RIGHTS ancillary data. QEMU keeps the
    /// descriptors for the next `getfd`/`add-fd` and its JSON parser ignores the space.
    static func sendDescriptors(_ descriptors: [Int32], over socket: Int32) throws(QMPError) {
        guard !descriptors.isEmpty else { return }
        let headerSize = MemoryLayout<cmsghdr>.size
        let payloadSize = descriptors.count * MemoryLayout<Int32>.size
        let alignment = MemoryLayout<Int>.size
        let spaceSize = headerSize + (payloadSize + alignment - 1) / alignment * alignment
        var control = [UInt8](repeating: 0, count: spaceSize)
        var space: UInt8 = 0x20
        let sent = control.withUnsafeMutableBytes { controlBytes -> Int in
            let header = controlBytes.baseAddress!.assumingMemoryBound(to: cmsghdr.self)
            header.pointee.cmsg_level = SOL_SOCKET
            header.pointee.cmsg_type = Int32(SCM_RIGHTS)
            header.pointee.cmsg_len = .init(headerSize + payloadSize)
            descriptors.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(rebasing: controlBytes[headerSize..<(headerSize + payloadSize)])
                    .copyMemory(from: source)
            }
            return withUnsafeMutablePointer(to: &space) { spacePointer in
                var vector = iovec(iov_base: UnsafeMutableRawPointer(spacePointer), iov_len: 1)
                return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                    var message = msghdr()
                    message.msg_iov = vectorPointer
                    message.msg_iovlen = 1
                    message.msg_control = controlBytes.baseAddress
                    message.msg_controllen = .init(spaceSize)
                    while true {
                        let result = sendmsg(socket, &message, Int32(MSG_NOSIGNAL))
                        if result == -1 && errno == EINTR { continue }
                        return result
                    }
                }
            }
        }
        guard sent == 1 else { throw .invalidArgument("could not pass the file descriptor: \(errorText())") }
    }
}
