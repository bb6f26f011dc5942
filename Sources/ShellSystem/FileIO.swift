import Glibc

/// The file operations the shell's own files share (history, schema cache, logs, recordings),
/// on descriptors, with failures reported as errno. One place for the loops that retry after a
/// signal and for the write-then-rename that never leaves a file half written.
public enum FileIO {
    /// Writes all of `bytes`, retrying after signals and short writes; `false` with errno set.
    public static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let count = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if count > 0 {
                offset += count
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
    }

    /// Reads `descriptor` to its end; `nil` with errno set.
    public static func readAll(_ descriptor: Int32) -> [UInt8]? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                bytes += chunk[..<count]
            } else if count == 0 {
                return bytes
            } else if errno != EINTR {
                return nil
            }
        }
    }

    /// Replaces `path` with `bytes`, whole: they go to a new file (mode 0600) next to it, which is
    /// then renamed over it, so an interrupted write never leaves a truncated file. Returns the
    /// errno of the step that failed, or `nil`.
    public static func replace(_ path: String, with bytes: [UInt8]) -> Int32? {
        let temporary = "\(path).\(getpid()).tmp"
        _ = unlink(temporary)  // left over by a crashed process that had the same id
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, S_IRUSR | S_IWUSR)
        guard descriptor >= 0 else { return errno }
        var failure: Int32?
        if !bytes.withUnsafeBytes({ writeAll(descriptor, $0) }) { failure = errno }
        if close(descriptor) != 0 && failure == nil { failure = errno }
        if failure == nil && rename(temporary, path) != 0 { failure = errno }
        if failure != nil { _ = unlink(temporary) }
        return failure
    }
}

/// The system's words for an errno value (`No such file or directory`).
public func errnoText(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}
