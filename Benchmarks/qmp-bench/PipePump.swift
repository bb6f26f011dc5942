import Glibc
import Foundation

/// Feeds a child's standard input and drains its standard output and error on a thread of its
/// own, until both outputs close; kills the child (SIGKILL) if it is still running at `deadline`,
/// whether or not its outputs are still open. Standard output is kept whole, or only counted
/// (bytes and lines) for children that print more than is worth keeping.
final class PipePump: @unchecked Sendable {
    // Set before `start()` and read after `finish()` has waited for the thread: no overlap.
    private let pid: pid_t
    private let input: [UInt8]
    private let stdin: Int32
    private let stdout: Int32
    private let stderr: Int32
    private let deadline: ContinuousClock.Instant
    private let keepOutput: Bool
    /// Called on the pump's thread with each chunk of standard error as it arrives.
    private let onStandardError: (@Sendable ([UInt8]) -> Void)?
    private var output: [UInt8] = []
    private var outputBytes = 0
    private var outputLines = 0
    private var errors: [UInt8] = []
    private var timedOut = false
    private let done = DispatchSemaphore(value: 0)
    private let ended = DispatchSemaphore(value: 0)

    init(
        pid: pid_t, input: [UInt8], stdin: Int32, stdout: Int32, stderr: Int32, deadline: ContinuousClock.Instant,
        keepOutput: Bool = true, onStandardError: (@Sendable ([UInt8]) -> Void)? = nil
    ) {
        self.keepOutput = keepOutput
        self.onStandardError = onStandardError
        self.pid = pid
        self.input = input
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.deadline = deadline
    }

    func start() {
        let thread = Thread { [self] in
            pump()
            done.signal()
        }
        thread.start()
    }

    /// Tells the pump the child has been reaped (so there is nothing left to kill), waits until
    /// both outputs have closed and returns what came out: standard output (empty unless kept),
    /// its size in bytes and in newlines, and standard error.
    func finish() -> (output: [UInt8], outputBytes: Int, outputLines: Int, errors: [UInt8], timedOut: Bool) {
        ended.signal()
        done.wait()
        return (output, outputBytes, outputLines, errors, timedOut)
    }

    private func pump() {
        var written = 0
        var stdinOpen = true
        if input.isEmpty {
            close(stdin)
            stdinOpen = false
        } else {
            _ = fcntl(stdin, F_SETFL, fcntl(stdin, F_GETFL) | O_NONBLOCK)
        }
        var open: [Int32: Bool] = [stdout: true, stderr: true]
        var chunk = [UInt8](repeating: 0, count: 65536)
        while open.values.contains(true) {
            var descriptors: [pollfd] = []
            if stdinOpen { descriptors.append(pollfd(fd: stdin, events: Int16(POLLOUT), revents: 0)) }
            for (fd, isOpen) in open where isOpen {
                descriptors.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
            }
            let ready = poll(&descriptors, nfds_t(descriptors.count), timedOut ? -1 : millisecondsLeft())
            if ready < 0 && errno == EINTR { continue }
            if ready == 0 {
                // Past the deadline: kill it, then keep draining until the pipes close.
                kill(pid, SIGKILL)
                timedOut = true
                continue
            }
            for descriptor in descriptors where descriptor.revents != 0 {
                if descriptor.fd == stdin && stdinOpen {
                    let count = input.withUnsafeBytes { raw in
                        write(stdin, raw.baseAddress! + written, raw.count - written)
                    }
                    if count > 0 { written += count }
                    if (count < 0 && errno != EAGAIN && errno != EINTR) || written == input.count {
                        close(stdin)
                        stdinOpen = false
                    }
                    continue
                }
                let count = read(descriptor.fd, &chunk, chunk.count)
                if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                if count <= 0 {
                    close(descriptor.fd)
                    open[descriptor.fd] = false
                } else if descriptor.fd == stdout {
                    outputBytes += count
                    outputLines += chunk.withUnsafeBufferPointer {
                        Self.newlines(in: UnsafeBufferPointer(rebasing: $0[..<count]))
                    }
                    if keepOutput { output.append(contentsOf: chunk[..<count]) }
                } else {
                    errors.append(contentsOf: chunk[..<count])
                    onStandardError?(Array(chunk[..<count]))
                }
            }
        }
        if stdinOpen { close(stdin) }
        // Outputs closed; the child may still be running.
        if !timedOut, ended.wait(timeout: .now() + .milliseconds(Int(millisecondsLeft()))) == .timedOut {
            kill(pid, SIGKILL)
            timedOut = true
        } else if !timedOut {
            return
        }
        ended.wait()
    }

    /// How many `\n` bytes `bytes` holds (memchr runs at memory speed; the child is being timed).
    private static func newlines(in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        guard var cursor = UnsafeRawPointer(bytes.baseAddress) else { return 0 }
        let end = cursor + bytes.count
        var found = 0
        while cursor < end, let hit = memchr(cursor, 0x0A, end - cursor) {
            found += 1
            cursor = UnsafeRawPointer(hit) + 1
        }
        return found
    }

    private func millisecondsLeft() -> Int32 {
        let (seconds, attoseconds) = (deadline - ContinuousClock.now).components
        guard seconds >= 0 && attoseconds >= 0 else { return 0 }
        return Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
    }
}
