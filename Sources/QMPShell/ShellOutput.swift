import Dispatch
import Glibc
import NIOCore
import NIOPosix
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
/// A script's results to a pipe or a file may be written in batches (``init(batchingResults:)``):
/// the first result after a quiet spell is written at once, later ones wait at most
/// ``batchInterval``, so a reader is woken once per batch instead of once per reply, which a lock-step replay otherwise pays for in every command's
/// round trip. A diagnostic first writes the results before it, so the two streams keep their
/// order, and results check (with `poll`, which wakes nobody; at most once a millisecond) that
/// standard output's reader is still there.
///
/// When standard output's reader has gone (`qmp-shell -f big.qmp SOCK | head -1`), the shell ends
/// at once, silently, killed by SIGPIPE as `cat` or `yes` would be (a shell reports 141): nothing
/// more is sent to the server. A closed standard error is ignored.
public final class StandardStreams: ShellOutput {
    /// The longest a batched result waits before it is written.
    public static let batchInterval = Duration.milliseconds(10)
    /// A batch this large is written at once.
    static let batchLimit = 64 << 10
    /// How often a batching run looks whether standard output's reader has gone: often enough
    /// that a few commands at most are sent after it left, seldom enough that a lock-step replay
    /// does not pay a system call for every reply.
    static let readerCheckInterval = Duration.milliseconds(1)

    private struct Batch {
        var bytes: [UInt8] = []
        var flushScheduled = false
        /// When results were last written: the first result after a quiet spell is written at once.
        var lastWrite = ContinuousClock.now - StandardStreams.batchInterval
        /// When the reader of standard output was last looked for.
        var lastReaderCheck = ContinuousClock.now - StandardStreams.readerCheckInterval
    }

    private let batching: Bool
    private let timersOffTheEventLoop: Bool
    private let lock = Mutex(Batch())

    /// Every result written at once.
    public convenience init() { self.init(batchingResults: false) }

    /// With `batchingResults`, results are written in batches of at most ``batchInterval``; call
    /// ``flush()`` before the program ends.
    ///
    /// A batch's timer runs on NIO's event loop, where it costs no thread hand-off; with
    /// `timersOffTheEventLoop` it runs on a Dispatch queue instead, for a run whose event loop
    /// may wait in a blocking call (a libvirt script in lock-step), so that the results before a
    /// slow command still wait at most ``batchInterval``.
    public init(batchingResults: Bool, timersOffTheEventLoop: Bool = false) {
        batching = batchingResults
        self.timersOffTheEventLoop = timersOffTheEventLoop
    }

    public func result(_ text: String) {
        guard batching else {
            write(text, to: 1)
            return
        }
        let (scheduleFlush, checkReader) = lock.withLock { batch -> (Bool, Bool) in
            batch.bytes.append(contentsOf: text.utf8)
            let now = ContinuousClock.now
            if !batch.flushScheduled, now - batch.lastWrite >= Self.batchInterval {
                Self.writeBatch(&batch)
                return (false, false)
            }
            if batch.bytes.count >= Self.batchLimit {
                Self.writeBatch(&batch)
                return (false, false)
            }
            let checkReader = now - batch.lastReaderCheck >= Self.readerCheckInterval
            if checkReader { batch.lastReaderCheck = now }
            defer { batch.flushScheduled = true }
            return (!batch.flushScheduled, checkReader)
        }
        // A reader that has gone is noticed within a millisecond, as good as at once (see the
        // class comment): a poll, which wakes nobody, instead of a write.
        if checkReader, Self.readerHasGone() { flush() }
        if scheduleFlush {
            if timersOffTheEventLoop {
                let delay = DispatchTimeInterval.nanoseconds(Int(TimeAmount(Self.batchInterval).nanoseconds))
                DispatchQueue.global().asyncAfter(deadline: .now() + delay) { [self] in flushBatch()
                }
            } else {
                MultiThreadedEventLoopGroup.singleton.next().scheduleTask(in: TimeAmount(Self.batchInterval)) {
                    [self] in flushBatch()
                }
            }
        }
    }

    /// The batch's timer: writes what waits and lets the next result start a batch.
    private func flushBatch() {
        lock.withLock { batch in
            batch.flushScheduled = false
            Self.writeBatch(&batch)
        }
    }

    public func diagnostic(_ text: String) { write(text, to: 2) }

    /// Writes the results still waiting in a batch.
    public func flush() {
        lock.withLock { Self.writeBatch(&$0) }
    }

    private func write(_ text: String, to descriptor: Int32) {
        var text = text
        lock.withLock { batch in
            // The results before a diagnostic come before it.
            Self.writeBatch(&batch)
            text.withUTF8 { Self.writeAll($0, to: descriptor) }
        }
    }

    /// Whether standard output is a pipe (or socket) whose reader has closed it: writing would
    /// fail with EPIPE.
    private static func readerHasGone() -> Bool {
        var standardOutput = pollfd(fd: 1, events: Int16(POLLOUT), revents: 0)
        return poll(&standardOutput, 1, 0) == 1 && standardOutput.revents & Int16(POLLERR | POLLHUP) != 0
    }

    private static func writeBatch(_ batch: inout Batch) {
        guard !batch.bytes.isEmpty else { return }
        writeAll(batch.bytes, to: 1)
        batch.bytes.removeAll(keepingCapacity: true)
        batch.lastWrite = .now
    }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32) {
        bytes.withUnsafeBufferPointer { writeAll($0, to: descriptor) }
    }

    private static func writeAll(_ bytes: UnsafeBufferPointer<UInt8>, to descriptor: Int32) {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 && errno == EINTR { continue }
            if written < 0 && errno == EPIPE && descriptor == 1 { endBecauseTheReaderLeft() }
            if written <= 0 { return }
            offset += written
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
