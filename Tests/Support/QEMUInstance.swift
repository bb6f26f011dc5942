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
            ["-M", machine, "-nodefaults", "-display", "none",
             "-qmp", "unix:\(socketPath),server=on,wait=off",
             "-qmp", "unix:\(controlPath),server=on,wait=off"] + extraArguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(20)
        while !(FileManager.default.fileExists(atPath: socketPath) && FileManager.default.fileExists(atPath: controlPath)) {
            guard process.isRunning, ContinuousClock.now < deadline else {
                process.terminate()
                throw FakeServerError("QEMU did not start (\(Self.binary) \(process.arguments!.joined(separator: " ")))")
            }
            usleep(10_000)
        }
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
        process.arguments = ["-m", "unix-listen", "-p", socketPath, "-t", directory.path, "-b", Self.blocked.joined(separator: ",")]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(20)
        while !FileManager.default.fileExists(atPath: socketPath) {
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
