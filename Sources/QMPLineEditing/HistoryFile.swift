import ShellSystem
import CEditLine
import CTerminal

import Glibc

/// The history file: one entry per line, oldest first, as GNU readline writes it, so the file
/// can be shared with QEMU's Python qmp-shell, which uses the same path.
///
/// Reading also accepts libedit's own format (a first line `_HiStOrY_V2_`) and skips readline's
/// `#1700000000` timestamp lines. Saving merges: the entries of this session are added to what
/// the file holds by then (another program may have added some), and the newest `limit` kept.
///
/// Only a regular file of the user's is used (see ``PrivateFile``). The file is written with mode
/// 0600, and an existing one is narrowed to 0600 when read. Failures come back as a message and
/// never stop the editor.
struct HistoryFile {
    let path: String
    /// How many entries the file keeps, the newest.
    let limit: Int

    /// Why the file must not be used at all, or nil (see ``PrivateFile``). Checked before
    /// every read and write.
    func refusal() -> String? {
        PrivateFile.refusal(path, what: "history file", regularOnly: true)
    }

    /// Lines typed that stay out of the file: any that mentions a password, passphrase or secret
    /// (`object-add qom-type=secret id=s0 data=...`, `set_password`, `key-secret=`), in any case
    /// and any syntax (QMP, HMP, raw JSON).
    static func isSecret(_ line: String) -> Bool {
        let lowered = line.lowercased()
        return ["secret", "password", "passwd", "passphrase"].contains { lowered.contains($0) }
    }

    /// Adds the file's entries to `history`, oldest first. Returns a problem to report, or nil
    /// (a missing file is not a problem).
    func load(into history: OpaquePointer) -> String? {
        switch entries(narrowing: true) {
        case .success(let entries):
            for entry in entries { _ = qmpshell_history_enter(history, entry) }
            return nil
        case .failure(let failure):
            return failure.message
        }
    }

    /// Adds `newEntries` after the entries the file holds now and keeps the newest `limit`.
    /// Returns a problem to report, or nil.
    ///
    /// The entries go to a new file (mode 0600) next to the history file, which then replaces
    /// it, so an interrupted write never leaves a truncated history. A symbolic link (the
    /// user's, to the user's file) is followed: its target is replaced.
    func append(_ newEntries: [String]) -> String? {
        if let refusal = refusal() { return refusal }
        let current: [String]
        switch entries(narrowing: false) {
        case .success(let entries): current = entries
        case .failure(let failure): return failure.message
        }
        var merged: [String] = []
        // An entry is one line of the file: a newline typed with ^V^J becomes a space.
        for entry in current + newEntries.map({ $0.replacing("\n", with: " ") }) where entry != merged.last {
            merged.append(entry)
        }
        let text = merged.suffix(limit).map { $0 + "\n" }.joined()

        if let failure = FileIO.replace(resolvedPath(), with: Array(text.utf8)) {
            return problem("write", code: failure)
        }
        return nil
    }

    private struct Failure: Error {
        let message: String
    }

    /// The file's entries, oldest first; none when it does not exist. `narrowing` sets its mode
    /// to 0600 (a file of the user's: see ``refusal()``).
    private func entries(narrowing: Bool) -> Result<[String], Failure> {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            return errno == ENOENT ? .success([]) : .failure(Failure(message: problem("read")))
        }
        defer { _ = close(fd) }
        if narrowing { _ = fchmod(fd, S_IRUSR | S_IWUSR) }

        guard let bytes = FileIO.readAll(fd) else { return .failure(Failure(message: problem("read"))) }

        let cookie = Array("_HiStOrY_V2_\n".utf8)
        if bytes.starts(with: cookie) {
            return libeditEntries()
        }
        var entries: [String] = []
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            var entry = String(decoding: line, as: UTF8.self)
            if entry.hasSuffix("\r") { entry.removeLast() }
            if entry.isEmpty || Self.isTimestamp(entry) { continue }
            entries.append(entry)
        }
        return .success(entries)
    }

    /// The entries of a file in libedit's format (its lines are encoded), read by libedit.
    private func libeditEntries() -> Result<[String], Failure> {
        guard let history = qmpshell_history_init(Int32(clamping: max(limit, 1))) else {
            return .failure(Failure(message: "could not read history file \(path)"))
        }
        defer { history_end(history) }
        guard qmpshell_history_load(history, path) != -1 else {
            return .failure(Failure(message: "could not read history file \(path)"))
        }
        var entries: [String] = []
        var entry = qmpshell_history_oldest(history)
        while let current = entry {
            entries.append(String(cString: current))
            entry = qmpshell_history_newer(history)
        }
        return .success(entries)
    }

    /// The path with symbolic links resolved, or as given when it does not exist yet.
    private func resolvedPath() -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The message for a failed `verb`, with the system's words for `code`.
    private func problem(_ verb: String, code: Int32 = errno) -> String {
        "could not \(verb) history file \(path): \(errnoText(code))"
    }

    /// GNU readline's `#` followed by seconds since the epoch, written when HISTTIMEFORMAT is set.
    private static func isTimestamp(_ line: String) -> Bool {
        line.count > 1 && line.first == "#" && line.dropFirst().allSatisfy(\.isASCIIDigit)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
