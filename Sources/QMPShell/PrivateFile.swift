#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Files the shell appends to (`-l`, `--record`): created private (0600); an existing file keeps
/// its mode, but one that group or others can read is worth a warning, since these files hold
/// every line or message, secrets included.
enum PrivateFile {
    /// Opens `path` for appending, creating it with mode 0600. Returns the descriptor and, for an
    /// existing file readable by group or others, a warning naming `what` the file is; nil with
    /// errno set if it cannot be opened.
    static func openForAppending(_ path: String, what: String) -> (descriptor: Int32, warning: String?)? {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return nil }
        var status = stat()
        let readable = S_IRGRP | S_IROTH
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_mode & readable != 0
        else { return (descriptor, nil) }
        let mode = String(status.st_mode & 0o777, radix: 8)
        return (descriptor, "\(what) \(path) is readable by other users (mode \(mode)); it keeps its mode")
    }
}
