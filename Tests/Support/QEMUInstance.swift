import Foundation
import QMP

/// A throwaway QEMU (`-M none -nodefaults -display none`) with two QMP monitors: `socketPath` for
/// the client under test and `controlPath` for the test to trigger events (`stop`, `cont`) on.
public final class QEMUInstance: @unchecked Sendable {
    public let socketPath: String
    public let controlPath: String
    public let directory: TemporaryDirectory
    private let process: Process

    /// The emulator binary; `make` installs it from Debian's qemu-system-x86.
    public static let binary = "/usr/bin/qemu-system-x86_64"

    /// Starts QEMU and waits until both monitors listen. `socketPath` puts the tested monitor at a
    /// chosen path (to start a second QEMU where a first one was).
    public init(machine: String = "none", extraArguments: [String] = [], socketPath chosenPath: String? = nil) throws {
        directory = try TemporaryDirectory(prefix: "qmp-qemu")
        socketPath = chosenPath ?? directory.file("qmp.sock")
        controlPath = directory.file("control.sock")
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments =
            [
                "-M", machine, "-nodefaults", "-display", "none",
                "-qmp", "unix:\(socketPath),server=on,wait=off",
                "-qmp", "unix:\(controlPath),server=on,wait=off",
            ] + extraArguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(20)
        // The file appears at bind(2), a moment before listen(2): until then a client is refused.
        // TCP monitors among the extra arguments (`-qmp tcp:127.0.0.1:PORT,...`) are waited for too.
        let tcpPorts = zip(extraArguments, extraArguments.dropFirst()).compactMap { option, value -> Int? in
            guard option == "-qmp", value.hasPrefix("tcp:127.0.0.1:") else { return nil }
            return Int(value.dropFirst("tcp:127.0.0.1:".count).prefix { $0.isNumber })
        }
        while !(Self.isListening(socketPath) && Self.isListening(controlPath)
            && tcpPorts.allSatisfy(Self.isListeningOnTCP))
        {
            guard process.isRunning, ContinuousClock.now < deadline else {
                process.terminate()
                throw FakeServerError(
                    "QEMU did not start (\(Self.binary) \(process.arguments!.joined(separator: " ")))")
            }
            usleep(10_000)
        }
    }

    /// A TCP port on 127.0.0.1 that nothing listens on now, for a `-qmp tcp:` monitor.
    public static func freeTCPPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether a UNIX socket at `path` is listening, read from /proc/net/unix without connecting:
    /// a probe connection would be a client of QEMU's monitor, and QEMU handling its close while
    /// the test's own client connects can end the test's connection.
    static func isListening(_ path: String) -> Bool {
        guard let table = procFile("/proc/net/unix") else { return false }
        // "Num RefCount Protocol Flags Type St Inode Path"; flags 00010000 is __SO_ACCEPTCON (listening).
        return table.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            return fields.count >= 8 && fields[3] == "00010000" && fields[7] == path
        }
    }

    /// Whether something listens on TCP 127.0.0.1:`port`, read from /proc/net/tcp (state 0A).
    static func isListeningOnTCP(_ port: Int) -> Bool {
        guard let table = procFile("/proc/net/tcp") else { return false }
        let local = "0100007F:" + String(format: "%04X", port)
        return table.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            return fields.count >= 4 && fields[1] == local && fields[3] == "0A"
        }
    }

    /// A file of /proc read to its end. `String(contentsOfFile:)` stops after the first 4 KiB, since
    /// /proc reports a size of 0: past some twenty QEMUs, their sockets were not found.
    static func procFile(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    }

    /// The version `qemu-system-x86_64 --version` reports, e.g. "7.2.22", to compare with what
    /// the greeting and the shell say.
    public static func installedVersion() throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--version"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        // "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)"
        let words = output.split(whereSeparator: \.isWhitespace)
        guard let index = words.firstIndex(of: "version"), index + 1 < words.count else {
            throw FakeServerError("unexpected --version output: \(output)")
        }
        return String(words[index + 1])
    }

    /// QEMU's process id.
    public var pid: Int32 { process.processIdentifier }

    /// Whether QEMU is still running.
    public var isRunning: Bool { process.isRunning }

    /// Connects a client to the control monitor.
    public func control() async throws -> QMPClient {
        let client = QMPClient(configuration: .patient)
        try await client.connect(to: .unix(path: controlPath))
        return client
    }

    /// Runs one command on the control monitor (a fresh connection each time).
    @discardableResult
    public func controlExecute(_ command: String, arguments: JSONObject? = nil) async throws -> JSONValue {
        let client = try await control()
        defer { Task { await client.disconnect() } }
        return try await client.execute(command, arguments: arguments)
    }

    /// Kills QEMU at once (SIGKILL), as a crash would.
    public func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { kill() }
}

/// A real qemu-ga listening on a UNIX socket, with every command that could change the host
/// blocked.
public final class GuestAgentInstance: @unchecked Sendable {
    public let socketPath: String
    public let directory: TemporaryDirectory
    private let process: Process

    public static let binary = "/usr/sbin/qemu-ga"

    /// Commands a host-side agent must never run in a test.
    public static let blocked = [
        "guest-shutdown", "guest-suspend-disk", "guest-suspend-ram", "guest-suspend-hybrid", "guest-file-open",
        "guest-file-write", "guest-exec", "guest-set-time", "guest-set-user-password", "guest-fstrim",
        "guest-fsfreeze-freeze", "guest-fsfreeze-freeze-list", "guest-fsfreeze-thaw", "guest-set-vcpus",
        "guest-set-memory-blocks", "guest-ssh-add-authorized-keys", "guest-ssh-remove-authorized-keys",
    ]

    public init() throws {
        directory = try TemporaryDirectory(prefix: "qmp-ga")
        socketPath = directory.file("ga.sock")
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = [
            "-m", "unix-listen", "-p", socketPath, "-t", directory.path, "-b", Self.blocked.joined(separator: ","),
        ]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(20)
        while !QEMUInstance.isListening(socketPath) {
            guard process.isRunning, ContinuousClock.now < deadline else {
                process.terminate()
                throw FakeServerError("qemu-ga did not start")
            }
            usleep(10_000)
        }
    }

    deinit {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

extension QMPClient.Configuration {
    /// The defaults, with a handshake timeout generous enough for a debug build whose whole test
    /// suite runs in parallel on two cores.
    public static var patient: QMPClient.Configuration {
        var configuration = QMPClient.Configuration()
        configuration.handshakeTimeout = .seconds(30)
        return configuration
    }
}
