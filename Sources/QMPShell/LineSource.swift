import ShellSystem
import Glibc
import NIOPosix

/// Lines of a script, one at a time.
public protocol LineSource {
    /// The next line without its line ending, or `nil` at the end. Throws when the rest of the
    /// script cannot be read (a read error, a line over ``FileLineSource/maximumLineLength``).
    mutating func nextLine() async throws(ShellError) -> String?
}

/// Lines held in memory: the `-c` arguments.
public struct ArrayLineSource: LineSource {
    private var lines: [String]
    private var index = 0

    public init(_ lines: [String]) { self.lines = lines }

    public mutating func nextLine() async throws(ShellError) -> String? {
        guard index < lines.count else { return nil }
        defer { index += 1 }
        return lines[index]
    }
}

/// Lines read from a file or a pipe as they come: each line is handed on as soon as its line
/// ending has been read, so a script on a FIFO or a slow pipe runs line by line, and a file is
/// never held whole (`-f /dev/zero` ends with an error, not with all the memory there is).
///
/// Reads block on NIO's thread pool, not on the connection's event loop or the concurrency pool.
/// Memory is one line at most (``maximumLineLength``) plus one read. Splits at `\n`, dropping a
/// `\r` before it; a final line ending is optional; invalid UTF-8 is replaced, not fatal.
public final class FileLineSource: LineSource {
    /// The longest line a script may have: far beyond any command (a 16 MiB reply is not typed),
    /// small enough that a file without line endings cannot exhaust memory.
    public static let maximumLineLength = 4 << 20
    static let readSize = 64 << 10

    private let descriptor: Int32
    private let ownsDescriptor: Bool
    /// Bytes read and not yet handed on start at `start`; `scanned` of them hold no `\n`.
    private var buffer: [UInt8] = []
    private var start = 0
    private var scanned = 0
    private var ended = false
    private var failure: ShellError?

    /// Reads `descriptor` (standard input: 0), which stays open.
    public init(descriptor: Int32) {
        self.descriptor = descriptor
        self.ownsDescriptor = false
    }

    /// Opens the file at `path` (a FIFO: once a writer has opened it); throws if it cannot be opened.
    public init(path: String) throws(ShellError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ShellError.system("cannot read \(path)") }
        self.descriptor = descriptor
        self.ownsDescriptor = true
    }

    deinit {
        if ownsDescriptor { close(descriptor) }
    }

    public func nextLine() async throws(ShellError) -> String? {
        if let failure { throw failure }
        while true {
            // Only the bytes not searched yet are searched: a long line read in many pieces costs
            // its length, not its length times the number of pieces.
            if let newline = buffer[(start + scanned)...].firstIndex(of: 0x0A) {
                var end = newline
                if end > start && buffer[end - 1] == 0x0D { end -= 1 }
                if end - start > Self.maximumLineLength { return try fail(Self.tooLong) }
                let line = String(decoding: buffer[start..<end], as: UTF8.self)
                start = newline + 1
                scanned = 0
                return line
            }
            scanned = buffer.count - start
            if scanned > Self.maximumLineLength { return try fail(Self.tooLong) }
            if ended {
                guard start < buffer.count else { return nil }
                let line = String(decoding: buffer[start...], as: UTF8.self)
                start = buffer.count
                scanned = 0
                return line
            }
            // What is left is the beginning of one line: keep only that, then read on.
            buffer.removeSubrange(..<start)
            start = 0
            let (chunk, error) = await readChunk()
            if error != 0 { return try fail(ShellError.system("cannot read on", code: error)) }
            if chunk.isEmpty { ended = true }
            buffer.append(contentsOf: chunk)
        }
    }

    private static let tooLong = ShellError(
        "line longer than 4 MiB (the most a script line may be); the script stops here")

    /// Reading stops for good: the same error again on every call.
    private func fail(_ error: ShellError) throws(ShellError) -> String? {
        failure = error
        throw error
    }

    /// One read of up to ``readSize`` bytes: the bytes (none at the end), or an errno.
    private func readChunk() async -> ([UInt8], Int32) {
        let descriptor = self.descriptor
        let result = try? await NIOThreadPool.singleton.runIfActive { () -> ([UInt8], Int32) in
            var chunk = [UInt8](repeating: 0, count: Self.readSize)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count < 0 { return ([], errno) }
                chunk.removeSubrange(count...)
                return (chunk, 0)
            }
        }
        return result ?? ([], EIO)
    }
}
