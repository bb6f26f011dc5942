import Foundation
import QMP

/// A scriptable QMP server on a UNIX socket, for the faults real QEMU will not produce on demand:
/// garbage, id-less errors, unknown ids, huge or deeply nested messages, cuts, silence, floods.
///
/// Each accepted connection runs `script` on its own thread with a blocking ``FakeQMPConnection``.
/// An error the script throws (an expectation the client did not meet) goes to the
/// ``FakeServerFailures`` of the task that made the server, so the test fails with its message.
public final class FakeQMPServer: Sendable {
    /// The socket path clients connect to.
    public let path: String
    private let directory: TemporaryDirectory
    private let listener: Int32

    public init(script: @escaping @Sendable (FakeQMPConnection) throws -> Void) throws {
        directory = try TemporaryDirectory(prefix: "qmp-fake")
        path = directory.file("qmp.sock")
        listener = try FakeQMPServer.listen(path: path)
        let listener = self.listener
        let failures = FakeServerFailures.current
        let thread = Thread {
            while true {
                let fd = accept(listener, nil, nil)
                if fd < 0 {
                    if errno == EINTR { continue }
                    return
                }
                let worker = Thread {
                    let connection = FakeQMPConnection(descriptor: fd)
                    do {
                        try script(connection)
                    } catch {
                        if let failures {
                            failures.record("\(error)")
                        } else {
                            FileHandle.standardError.write(Data("fake server: \(error)\n".utf8))
                        }
                    }
                    connection.close()
                }
                worker.stackSize = 64 << 20
                worker.start()
            }
        }
        thread.start()
    }

    /// Stops accepting connections.
    public func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
        unlink(path)
    }

    deinit { stop() }

    private static func listen(path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        let bound = withSocketAddress(path) { bind(fd, $0, $1) }
        guard bound == 0, Glibc.listen(fd, 8) == 0 else { throw POSIXError(.EADDRINUSE) }
        return fd
    }

    /// Calls `body` with the `sockaddr_un` of a UNIX socket at `path` (for `bind` or `connect`).
    public static func withSocketAddress<Result>(
        _ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Result
    ) -> Result {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}

/// One client connection of a ``FakeQMPServer``, driven by blocking calls from the script.
public final class FakeQMPConnection: @unchecked Sendable {
    // Used only from the script's own thread.
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var closed = false

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// The process on the other end of the socket (SO_PEERCRED), to look at it from the script
    /// while it is connected (its memory in /proc, say).
    public var peerProcessID: pid_t? {
        // struct ucred (pid, uid, gid), which Glibc's module does not export without _GNU_SOURCE.
        var credentials: [Int32] = [0, 0, 0]
        var length = socklen_t(MemoryLayout<Int32>.size * 3)
        guard getsockopt(descriptor, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0 else { return nil }
        return credentials[0]
    }

    /// The greeting QEMU 7.2 sends.
    public static let greeting =
        #"{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "fake"}, "capabilities": ["oob"]}}"#

    /// Sends text as is (add `\r\n` yourself where a message should end); false when the client
    /// went away.
    @discardableResult
    public func send(_ text: String) -> Bool {
        send(bytes: Array(text.utf8))
    }

    /// Sends raw bytes; returns false when the client went away (scripts that only send ignore it).
    @discardableResult
    public func send(bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let sent = Glibc.send(descriptor, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if sent < 0 && errno == EINTR { continue }
                if sent <= 0 { return false }
                offset += sent
            }
            return true
        }
    }

    /// Sends one message followed by `\r\n`, as QEMU does.
    public func send(message: JSONValue) {
        send(message.serialized() + "\r\n")
    }

    /// Sends the greeting (of QEMU 7.2, or of `version`: "4.2.0"), reads `qmp_capabilities` and
    /// accepts it.
    public func handshake(version: String? = nil) throws {
        var greeting = Self.greeting
        if let version {
            let parts = version.split(separator: ".")
            greeting = Self.greeting.replacingOccurrences(
                of: #""micro": 22, "minor": 2, "major": 7"#,
                with: #""micro": \#(parts[2]), "minor": \#(parts[1]), "major": \#(parts[0])"#)
        }
        send(greeting + "\r\n")
        let negotiation = try expect("qmp_capabilities")
        reply(to: negotiation, with: [:])
    }

    /// Answers the shell's schema requests, `query-target` then `query-qmp-schema`, with `schema`.
    public func serveSchema(_ schema: JSONValue) throws {
        reply(to: try expect("query-target"), with: ["arch": "x86_64"])
        reply(to: try expect("query-qmp-schema"), with: schema)
    }

    /// Reads the next message the client sent, or `nil` at end of stream, after `timeout`, or if
    /// the message is not a JSON object.
    ///
    /// Messages are split as QEMU splits them (its JSON streamer counts brackets outside strings),
    /// not by line: clients such as Python's qemu.qmp send no newline after a message.
    public func readMessage(timeout: Duration = .seconds(30)) -> JSONObject? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let value = takeValue() {
                return (try? JSONParser.parse(value))?.objectValue
            }
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { return nil }
            var pollFD = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(
                remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000 + 1)
            if poll(&pollFD, 1, milliseconds) <= 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = recv(descriptor, &chunk, chunk.count, 0)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return nil }
            buffer.append(contentsOf: chunk[..<count])
        }
    }

    /// Takes the next complete JSON value off the front of ``buffer``, or returns `nil` (keeping
    /// the partial value) if it has not all arrived.
    ///
    /// Like QEMU's streamer: whitespace and 0xFF bytes between values are skipped; an object or
    /// array ends where its brackets balance, counting only brackets outside strings; a 0xFF
    /// outside a string drops the partial value (QEMU resets its parser on it). Anything else at
    /// the top level (a bare scalar, garbage) runs to the end of its line.
    private func takeValue() -> [UInt8]? {
        var start = 0
        var depth = 0
        var inString = false
        var escaped = false
        var index = 0
        defer { buffer.removeSubrange(..<start) }
        while index < buffer.count {
            let byte = buffer[index]
            if depth == 0 {
                switch byte {
                case 0x20, 0x09, 0x0D, 0x0A, 0xFF:
                    start = index + 1
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth = 1
                default:
                    guard let newline = buffer[index...].firstIndex(of: 0x0A) else { return nil }
                    let value = Array(buffer[index..<newline])
                    start = newline + 1
                    return value
                }
            } else if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else {
                switch byte {
                case UInt8(ascii: "\""):
                    inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 {
                        let value = Array(buffer[start...index])
                        start = index + 1
                        return value
                    }
                case 0xFF:
                    depth = 0
                    start = index + 1
                default:
                    break
                }
            }
            index += 1
        }
        return nil
    }

    /// Reads the next message and checks it executes `command`.
    @discardableResult
    public func expect(_ command: String, timeout: Duration = .seconds(30)) throws -> JSONObject {
        guard let message = readMessage(timeout: timeout) else {
            throw FakeServerError("expected \(command), got nothing")
        }
        let name = message["execute"]?.stringValue ?? message["exec-oob"]?.stringValue
        guard name == command else {
            throw FakeServerError("expected \(command), got \(JSONValue.object(message).serialized())")
        }
        return message
    }

    /// Answers `message` with `{"return": value, "id": <its id>}`.
    public func reply(to message: JSONObject, with value: JSONValue) {
        var reply: JSONObject = ["return": value]
        if let id = message["id"] { reply["id"] = id }
        send(message: .object(reply))
    }

    /// Answers `message` with a QMP error.
    public func replyError(to message: JSONObject, errorClass: String = "GenericError", description: String) {
        var reply: JSONObject = ["error": ["class": .string(errorClass), "desc": .string(description)]]
        if let id = message["id"] { reply["id"] = id }
        send(message: .object(reply))
    }

    /// Reads `command` and answers it with an empty return, sending `event` (a message as QEMU
    /// writes it, without the line end) first, as QEMU emits a command's event before its reply.
    public func answer(_ command: String, after event: String) throws {
        let message = try expect(command)
        send(event + "\r\n")
        reply(to: message, with: [:])
    }

    /// Handshakes, then answers `command` with `value`, ending every line with LF only (as qemu-ga
    /// does) and sending `event` and the reply in one write.
    public func answerWithLineFeedsOnly(_ command: String, with value: JSONValue, after event: String) throws {
        send(Self.greeting + "\n")
        let negotiation = try expect("qmp_capabilities")
        send(#"{"return": {}, "id": "# + (negotiation["id"] ?? .null).serialized() + "}\n")
        let message = try expect(command)
        let reply: JSONValue = ["return": value, "id": message["id"] ?? .null]
        send(event + "\n" + reply.serialized() + "\n")
    }

    /// Floods the client with `count` `JOB_STATUS_CHANGE` events whose ids are `idPrefix` + 1...count
    /// (so a test can check order and which ones were kept), a thousand per write. `sent` is told
    /// how many have been written after each write (a write blocks while the client reads nothing).
    public func sendJobEventFlood(
        count: Int, idPrefix: String = "job", timestamp: (seconds: Int, microseconds: Int) = (1, 0),
        sent: (Int) -> Void = { _ in }
    ) {
        var chunk = ""
        for index in 1...count {
            chunk +=
                #"{"event": "JOB_STATUS_CHANGE", "data": {"status": "running", "id": "\#(idPrefix)\#(index)"}, "timestamp": {"seconds": \#(timestamp.seconds), "microseconds": \#(timestamp.microseconds)}}"#
                + "\r\n"
            if index % 1000 == 0 || index == count {
                send(chunk)
                chunk = ""
                sent(index)
            }
        }
    }

    /// Waits until the client closes its end (or `timeout`).
    public func waitForClose(timeout: Duration = .seconds(10)) {
        while readMessage(timeout: timeout) != nil {}
    }

    /// Closes the connection.
    public func close() {
        guard !closed else { return }
        closed = true
        shutdown(descriptor, Int32(SHUT_RDWR))
        Glibc.close(descriptor)
    }
}

/// A fake-server script's expectation that the client did not meet.
public struct FakeServerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
