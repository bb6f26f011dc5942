#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import NIOPosix

/// Lines of a script, one at a time.
public protocol LineSource {
    /// The next line without its line ending, or `nil` at the end.
    mutating func nextLine() async -> String?
}

/// Lines held in memory: `-c` arguments, or a script file read whole.
public struct ArrayLineSource: LineSource {
    private var lines: [String]
    private var index = 0

    public init(_ lines: [String]) { self.lines = lines }

    /// Reads a whole file, split into lines; a final line ending is optional.
    public init(contentsOf path: String) throws(ShellError) {
        self.lines = try Self.lines(ofFile: path)
    }

    /// A file's lines.
    static func lines(ofFile path: String) throws(ShellError) -> [String] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ShellError("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(descriptor, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw ShellError("cannot read \(path): \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[..<count])
        }
        return LineSplitter.split(bytes, final: true).lines
    }

    public mutating func nextLine() async -> String? {
        guard index < lines.count else { return nil }
        defer { index += 1 }
        return lines[index]
    }
}

/// Lines read as they come from a descriptor (a pipe on standard input), so a producer that
/// writes slowly is followed line by line. Reads block on NIO's thread pool, not on the
/// concurrency pool.
public struct DescriptorLineSource: LineSource {
    private let descriptor: Int32
    private var pending: [UInt8] = []
    private var ready: [String] = []
    private var ended = false

    public init(descriptor: Int32) { self.descriptor = descriptor }

    public mutating func nextLine() async -> String? {
        while ready.isEmpty {
            if ended { return nil }
            let descriptor = self.descriptor
            let chunk: [UInt8] = (try? await NIOThreadPool.singleton.runIfActive {
                var buffer = [UInt8](repeating: 0, count: 65536)
                while true {
                    let count = read(descriptor, &buffer, buffer.count)
                    if count < 0 && errno == EINTR { continue }
                    return count > 0 ? Array(buffer[..<count]) : []
                }
            }) ?? []
            if chunk.isEmpty { ended = true }
            pending.append(contentsOf: chunk)
            let split = LineSplitter.split(pending, final: ended)
            ready.append(contentsOf: split.lines)
            pending = split.rest
        }
        return ready.removeFirst()
    }
}

enum LineSplitter {
    /// Splits bytes at `\n` (dropping a `\r` before it); `rest` is an unfinished last line unless
    /// `final`. Invalid UTF-8 is replaced, not fatal.
    static func split(_ bytes: [UInt8], final: Bool) -> (lines: [String], rest: [UInt8]) {
        var lines: [String] = []
        var start = 0
        for (index, byte) in bytes.enumerated() where byte == 0x0A {
            var end = index
            if end > start && bytes[end - 1] == 0x0D { end -= 1 }
            lines.append(String(decoding: bytes[start..<end], as: UTF8.self))
            start = index + 1
        }
        if final {
            if start < bytes.count { lines.append(String(decoding: bytes[start...], as: UTF8.self)) }
            return (lines, [])
        }
        return (lines, Array(bytes[start...]))
    }
}
