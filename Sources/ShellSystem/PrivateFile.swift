import Glibc

/// The rules for files the shell writes (history, `-l`, `--record`).
///
/// Only the user's own files are written: the path must be missing, a file the user owns, or a
/// symbolic link the user owns to one. A link another user owns, or another user's file, may be
/// a trap planted in a shared directory such as /tmp (and root can write anything), so it is
/// refused: never written through, replaced or chmod'ed. New files are created 0600; an existing
/// one keeps its mode, but a log or record file that group or others can read is worth a
/// warning, since it holds every message or line, secrets included.
public enum PrivateFile {
    /// Why `path` must not be written, or nil. `what` names the file in the message ("log file").
    /// With `regularOnly`, anything but a regular file is refused too (history); otherwise a
    /// pipe or device of any owner is fine (`-l /dev/stderr`, `-l >(jq ...)`).
    public static func refusal(_ path: String, what: String, regularOnly: Bool) -> String? {
        var link = stat()
        guard lstat(path, &link) == 0 else { return nil }  // missing: created below, O_EXCL
        let user = geteuid()
        var file = link
        if link.st_mode & S_IFMT == S_IFLNK {
            guard link.st_uid == user else { return "\(what) \(path) is a symbolic link owned by another user" }
            guard stat(path, &file) == 0 else { return nil }  // a link to nothing: the open says why
        }
        let regular = file.st_mode & S_IFMT == S_IFREG
        if regularOnly && !regular { return "\(what) \(path) is not a regular file" }
        if regular && file.st_uid != user { return "\(what) \(path) is another user's file" }
        return nil
    }

    /// Opens `path` for appending, creating it with mode 0600, unless ``refusal(_:what:regularOnly:)``
    /// says no. Returns the descriptor and, for an existing file readable by group or others, a
    /// warning.
    public static func openForAppending(_ path: String, what: String) throws(ShellError) -> (
        descriptor: Int32, warning: String?
    ) {
        if let refusal = refusal(path, what: what, regularOnly: false) { throw ShellError(refusal) }
        // A missing file is created exclusively, so a link planted meanwhile is not followed.
        var descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o600)
        if descriptor < 0 && errno == EEXIST {
            descriptor = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        }
        guard descriptor >= 0 else {
            throw ShellError.system("cannot open \(what) \(path)")
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return (descriptor, nil) }
        if status.st_uid != geteuid() {
            close(descriptor)
            throw ShellError("\(what) \(path) is another user's file")
        }
        guard status.st_mode & (S_IRGRP | S_IROTH) != 0 else { return (descriptor, nil) }
        let mode = String(status.st_mode & 0o777, radix: 8)
        return (descriptor, "\(what) \(path) is readable by other users (mode \(mode)); it keeps its mode")
    }
}
