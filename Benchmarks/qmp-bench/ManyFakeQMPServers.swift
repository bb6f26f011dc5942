import Foundation
import Glibc
import QMP
import QMPTestSupport
import Synchronization

/// `count` minimal QMP servers on UNIX sockets, all served by one thread with `poll(2)`: the
/// greeting, `{}` to `qmp_capabilities`, and a running status to any other command. A thousand
/// `FakeQMPServer`s would be two thousand threads; this is one, so the fleet's own memory is
/// what is measured.
final class ManyFakeQMPServers: Sendable {
    let paths: [String]
    private let directory: TemporaryDirectory
    private let stopping = Mutex(false)
    private let wake: (read: Int32, write: Int32)

    init(count: Int) throws {
        directory = try TemporaryDirectory(prefix: "qmp-fleet-fakes")
        var listeners: [Int32] = []
        var paths: [String] = []
        for index in 0..<count {
            let path = directory.file("vm-\(index).sock")
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            let bound = FakeQMPServer.withSocketAddress(path) { bind(fd, $0, $1) }
            guard fd >= 0, bound == 0, listen(fd, 16) == 0 else { throw BenchError("cannot listen on \(path)") }
            listeners.append(fd)
            paths.append(path)
        }
        self.paths = paths
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { throw BenchError("pipe failed") }
        wake = (pipeEnds[0], pipeEnds[1])
        let wakeRead = pipeEnds[0]
        let served = listeners
        let thread = Thread { Self.serve(listeners: served, wake: wakeRead) }
        thread.start()
    }

    func stop() {
        guard
            !stopping.withLock({ stopped in
                defer { stopped = true }; return stopped
            })
        else { return }
        var byte: UInt8 = 0
        _ = write(wake.write, &byte, 1)
    }

    deinit { stop() }

    private static let greeting = Array(
        (#"{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": ""}, "capabilities": []}}"#
            + "\r\n").utf8)

    /// The poll loop: listeners accept, connections read complete messages (split by brace depth:
    /// no command sent here has a brace in a string) and answer each.
    private static func serve(listeners: [Int32], wake: Int32) {
        var buffers: [Int32: [UInt8]] = [:]
        let listening = Set(listeners)
        while true {
            var fds = [pollfd(fd: wake, events: Int16(POLLIN), revents: 0)]
            fds += listeners.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            fds += buffers.keys.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&fds, nfds_t(fds.count), -1) >= 0 || errno == EINTR else { return }
            if fds[0].revents != 0 {
                for fd in listeners + Array(buffers.keys) { close(fd) }
                return
            }
            for entry in fds.dropFirst() where entry.revents != 0 {
                if listening.contains(entry.fd) {
                    let client = accept(entry.fd, nil, nil)
                    if client >= 0 {
                        buffers[client] = []
                        send(greeting, to: client)
                    }
                    continue
                }
                var chunk = [UInt8](repeating: 0, count: 65536)
                let count = read(entry.fd, &chunk, chunk.count)
                if count <= 0 {
                    close(entry.fd)
                    buffers[entry.fd] = nil
                    continue
                }
                buffers[entry.fd, default: []].append(contentsOf: chunk[..<count])
                answerComplete(&buffers[entry.fd]!, on: entry.fd)
            }
        }
    }

    private static func answerComplete(_ buffer: inout [UInt8], on fd: Int32) {
        var depth = 0
        var start = 0
        var index = 0
        while index < buffer.count {
            switch buffer[index] {
            case UInt8(ascii: "{"): depth += 1
            case UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 {
                    answer(Array(buffer[start...index]), on: fd)
                    start = index + 1
                }
            default: break
            }
            index += 1
        }
        buffer.removeFirst(start)
    }

    private static func answer(_ message: [UInt8], on fd: Int32) {
        guard case .object(let request)? = try? JSONParser.parse(message) else { return }
        let value: JSONValue =
            request["execute"] == "qmp_capabilities"
            ? .object([:]) : ["status": "running", "singlestep": false, "running": true]
        var reply: JSONObject = ["return": value]
        if let id = request["id"] { reply.append(key: "id", value: id) }
        send(Array((reply.serialized() + "\r\n").utf8), to: fd)
    }

    private static func send(_ bytes: [UInt8], to fd: Int32) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            offset += written
        }
    }
}
