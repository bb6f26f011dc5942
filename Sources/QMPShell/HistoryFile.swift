import CEditLine

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The history file: one entry per line, oldest first, as GNU readline writes it, so the file
/// can be shared with QEMU's Python qmp-shell, which uses the same path.
///
/// Reading also accepts libedit's own format (a first line `_HiStOrY_V2_`) and skips readline's
/// `#1700000000` timestamp lines. The file is written with mode 0600, and an existing one is
/// narrowed to 0600 when read. Failures come back as a message and never stop the editor.
struct HistoryFile {
    let path: String

    /// Adds the file's entries to `history`, oldest first. Returns a problem to report, or nil
    /// (a missing file is not a problem).
    func load(into history: OpaquePointer) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            return errno == ENOENT ? nil : problem("read")
        }
        defer { _ = close(fd) }
        _ = fchmod(fd, S_IRUSR | S_IWUSR)  // may fail when the file is not ours; reading is what matters

        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                bytes += chunk[..<count]
            } else if count == 0 {
                break
            } else if errno != EINTR {
                return problem("read")
            }
        }

        let cookie = Array("_HiStOrY_V2_\n".utf8)
        if bytes.starts(with: cookie) {
            return qmpshell_history_load(history, path) == -1 ? "could not read history file \(path)" : nil
        }
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            var entry = String(decoding: line, as: UTF8.self)
            if entry.hasSuffix("\r") { entry.removeLast() }
            if entry.isEmpty || Self.isTimestamp(entry) { continue }
            _ = qmpshell_history_enter(history, entry)
        }
        return nil
    }

    /// Replaces the file's contents with every entry of `history`, oldest first. Returns a
    /// problem to report, or nil.
    ///
    /// The entries go to a new file (mode 0600) next to the history file, which then replaces
    /// it, so an interrupted write never leaves a truncated history. A symbolic link is
    /// followed: its target is replaced.
    func save(from history: OpaquePointer) -> String? {
        var text = ""
        var entry = qmpshell_history_oldest(history)
        while let current = entry {
            // An entry is one line of the file: a newline typed with ^V^J becomes a space.
            text += String(cString: current).replacing("\n", with: " ") + "\n"
            entry = qmpshell_history_newer(history)
        }

        let target = resolvedPath()
        let temporary = "\(target).\(getpid()).tmp"
        _ = unlink(temporary)  // left over by a crashed process that had the same id
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, S_IRUSR | S_IWUSR)
        guard fd >= 0 else { return problem("write") }
        var remaining = Array(text.utf8)[...]
        var failure: String?
        while !remaining.isEmpty {
            let count = remaining.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                remaining = remaining.dropFirst(count)
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                failure = problem("write")
                break
            }
        }
        if close(fd) != 0 && failure == nil {
            failure = problem("write")
        }
        if failure == nil && rename(temporary, target) != 0 {
            failure = problem("write")
        }
        if failure != nil {
            _ = unlink(temporary)
        }
        return failure
    }

    /// The path with symbolic links resolved, or as given when it does not exist yet.
    private func resolvedPath() -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private func problem(_ verb: String) -> String {
        "could not \(verb) history file \(path): \(String(cString: strerror(errno)))"
    }

    /// GNU readline's `#` followed by seconds since the epoch, written when HISTTIMEFORMAT is set.
    private static func isTimestamp(_ line: String) -> Bool {
        line.count > 1 && line.first == "#" && line.dropFirst().allSatisfy(\.isASCIIDigit)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
