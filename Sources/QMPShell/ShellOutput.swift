#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Synchronization

/// Where the shell writes: results (replies, events) and diagnostics (errors, notices).
///
/// Non-interactive runs send results to standard output and diagnostics to standard error; the
/// interactive shell sends both above the prompt.
public protocol ShellOutput: Sendable {
    /// Writes a result; `text` ends with a newline.
    func result(_ text: String)
    /// Writes a diagnostic; `text` ends with a newline.
    func diagnostic(_ text: String)
    /// Whether the destination is behind, so events should wait in their bounded queue (which
    /// drops and counts) rather than pile up here.
    var isBacklogged: Bool { get }
}

extension ShellOutput {
    public var isBacklogged: Bool { false }
}

/// Standard output and standard error, written with one `write(2)` per call so lines never mix.
public final class StandardStreams: ShellOutput {
    private let lock = Mutex(())

    public init() {}

    public func result(_ text: String) { write(text, to: 1) }
    public func diagnostic(_ text: String) { write(text, to: 2) }

    private func write(_ text: String, to descriptor: Int32) {
        var text = text
        lock.withLock { _ in
            text.withUTF8 { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written < 0 && errno == EINTR { continue }
                    // A closed pipe (`| head`) ends output quietly; SIGPIPE is ignored.
                    if written <= 0 { return }
                    offset += written
                }
            }
        }
    }
}
