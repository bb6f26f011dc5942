import Foundation

/// A private directory under /tmp (short, so UNIX socket paths fit in 108 bytes), removed on deinit.
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init(prefix: String = "qmp-test") throws {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        path = String(cString: made)
    }

    /// A path inside the directory.
    public func file(_ name: String) -> String { path + "/" + name }

    /// Writes a file of `megabytes` MiB of non-zero bytes inside the directory (an image a block
    /// job copies every cluster of) and returns its path.
    public func filledFile(_ name: String, megabytes: Int) throws -> String {
        let path = file(name)
        guard FileManager.default.createFile(atPath: path, contents: Data(repeating: 0xAB, count: megabytes << 20))
        else { throw FakeServerError("cannot write \(path)") }
        return path
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}
