import Glibc
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
///
/// When standard output's reader has gone (`qmp-shell -f big.qmp SOCK | head -1`), the shell ends
/// at once, silently, killed by SIGPIPE as `cat` or `yes` would be (a shell reports 141): nothing
/// more is sent to the server. A closed standard error is ignored.
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
                    if written < 0 && errno == EPIPE && descriptor == 1 { Self.endBecauseTheReaderLeft() }
                    if written <= 0 { return }
                    offset += written
                }
            }
        }
    }

    /// SIGPIPE is ignored for the sockets' sake (Main.swift): die of it now, from this thread, so
    /// no other thread sends another command meanwhile.
    private static func endBecauseTheReaderLeft() -> Never {
        signal(SIGPIPE, SIG_DFL)
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_UNBLOCK, &pipeSignal, nil)
        raise(SIGPIPE)
        _exit(128 + SIGPIPE)
    }
}
