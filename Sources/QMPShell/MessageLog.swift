import ShellSystem
import Glibc
import QMP
import Synchronization

/// `-l FILE`: appends one JSON line per message sent or received, events included:
/// `{"time":"2026-11-22T10:00:00.123456Z","direction":"in","message":{...}}`.
///
/// The file is created private (0600). It never touches the QMP socket.
public final class MessageLog: Sendable {
    private let descriptor: Int32
    private let lock = Mutex(())
    private let failed = Atomic<Bool>(false)
    private let onFailure: @Sendable (String) -> Void
    public let path: String

    /// A warning to show once: the file existed and others can read it.
    public let warning: String?

    /// Opens (or creates, 0600) `path` for appending; throws a readable message if it cannot or
    /// must not (see ``PrivateFile``). An existing file keeps its mode (see ``warning``).
    public init(path: String, onFailure: @escaping @Sendable (String) -> Void) throws(ShellError) {
        let (descriptor, warning) = try PrivateFile.openForAppending(path, what: "log file")
        self.descriptor = descriptor
        self.warning = warning
        self.path = path
        self.onFailure = onFailure
    }

    deinit { close(descriptor) }

    /// Records one message; called from the connection's thread for received ones.
    public func record(_ direction: MessageDirection, _ text: String) {
        guard !failed.load(ordering: .relaxed) else { return }
        var line: [UInt8] = []
        line.reserveCapacity(text.utf8.count + 80)
        line.append(contentsOf: #"{"time":""#.utf8)
        line.append(contentsOf: Self.timestamp().utf8)
        line.append(contentsOf: #"","direction":""#.utf8)
        line.append(contentsOf: direction.rawValue.utf8)
        line.append(contentsOf: #"","message":"#.utf8)
        // A server can send anything; what is not JSON is logged as a string.
        if (try? JSONParser.parse(text)) != nil {
            line.append(contentsOf: text.utf8)
        } else {
            JSONValue.string(text).write(to: &line)
        }
        line.append(contentsOf: "}\n".utf8)
        let ok = lock.withLock { _ in
            line.withUnsafeBytes { FileIO.writeAll(descriptor, $0) }
        }
        if !ok && !failed.exchange(true, ordering: .relaxed) {
            onFailure("cannot write log file \(path): \(errnoText()); logging stopped")
        }
    }

    /// The current UTC time with microseconds, ISO 8601.
    static func timestamp() -> String { ClockText.utcTimestamp() }
}
