import ShellSystem
import Glibc

/// `--record FILE`: keeps the lines of an interactive session that succeeded, as a script that
/// `qmp-shell -f FILE` replays. Failed lines, `.help` and `.quit` are left out; a transaction is
/// written once it has been sent successfully, all its lines together.
public final class ScriptRecorder {
    private let descriptor: Int32
    private var transaction: [String] = []
    public let path: String

    /// A warning to show once: the file existed and others can read it.
    public let warning: String?

    /// Opens `path` for appending (created 0600; an existing file keeps its mode, see
    /// ``warning``; another user's link or file is refused, see ``PrivateFile``) and writes a
    /// header comment.
    public init(path: String, header: String) throws(ShellError) {
        let (descriptor, warning) = try PrivateFile.openForAppending(path, what: "record file")
        self.descriptor = descriptor
        self.warning = warning
        self.path = path
        write("# \(header)\n")
    }

    deinit { close(descriptor) }

    /// Notes a line that ran with `outcome`; `inTransaction` is whether a transaction is open after it.
    public func note(_ line: String, outcome: LineOutcome, inTransaction: Bool) {
        let trimmed = line.trimmingWhitespace()
        guard outcome == .success, !trimmed.isEmpty, !trimmed.hasPrefix("#"),
            !trimmed.hasPrefix(".help"), !trimmed.hasPrefix(".quit")
        else {
            if outcome != .success && !inTransaction { transaction.removeAll() }
            return
        }
        if inTransaction {
            transaction.append(line)
            return
        }
        write((transaction + [line]).map { $0 + "\n" }.joined())
        transaction.removeAll()
    }

    /// Forgets a transaction abandoned with Ctrl-C.
    public func dropTransaction() {
        transaction.removeAll()
    }

    private func write(_ text: String) {
        var text = text
        text.withUTF8 { _ = FileIO.writeAll(descriptor, UnsafeRawBufferPointer($0)) }
    }
}
