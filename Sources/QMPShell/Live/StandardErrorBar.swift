import Glibc
import Synchronization

/// `.job`'s progress line in a script whose standard error is a terminal (and standard output is
/// not, so the job's JSON does not cross it): one line, redrawn in place, erased when the job ends.
final class StandardErrorBar: Sendable {
    private let shown = Mutex(false)

    /// Draws `line` over the previous one, or erases it (`nil`).
    func show(_ line: ProgressLine?) {
        let text = shown.withLock { shown -> String? in
            guard let line else {
                defer { shown = false }
                return shown ? "\r\u{1B}[K" : nil
            }
            shown = true
            return "\r" + line.text(bar: true).escapingControlCharacters + "\u{1B}[K"
        }
        guard let text else { return }
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }
}
