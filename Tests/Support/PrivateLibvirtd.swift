import Foundation

/// The private libvirtd that `make test` starts for the suite (scripts/private-libvirtd.sh) and
/// stops afterwards, and transient domains on it.
public enum PrivateLibvirtd {
    /// The daemon's URI, from `$QMP_TEST_LIBVIRT_URI` (set by `make test`).
    public static func uri() throws -> String {
        guard let uri = ProcessInfo.processInfo.environment["QMP_TEST_LIBVIRT_URI"], !uri.isEmpty else {
            throw FakeServerError(
                "no private libvirtd: run the suite with `make test`, which starts one, or start one with "
                    + "`scripts/private-libvirtd.sh start DIR` and set QMP_TEST_LIBVIRT_URI to the URI it prints")
        }
        return uri
    }

    /// The same daemon as a remote host reaches it: `qemu+tcp://127.0.0.1:PORT/system`, from
    /// `$QMP_TEST_LIBVIRT_TCP_URI` (set by `make test`).
    public static func tcpURI() throws -> String {
        guard let uri = ProcessInfo.processInfo.environment["QMP_TEST_LIBVIRT_TCP_URI"], !uri.isEmpty else {
            throw FakeServerError("no TCP URI of the private libvirtd: run the suite with `make test`")
        }
        return uri
    }

    /// Runs `virsh -c URI ARGUMENTS...` (the suite's daemon unless `uri` is given) and returns its
    /// standard output; throws with its standard error if it fails.
    @discardableResult
    public static func virsh(_ arguments: [String], uri: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/virsh")
        process.arguments = ["-q", "-c", try uri ?? Self.uri()] + arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problem = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FakeServerError("virsh \(arguments.joined(separator: " ")) failed: \(problem)")
        }
        return text
    }
}

/// A libvirtd of one test's own (scripts/private-libvirtd.sh), for what the suite's shared one
/// must not go through: being killed under a client. Stopped, with its domains, on deinit.
public final class ExtraLibvirtd: Sendable {
    public let uri: String
    private let directory: String

    /// Starts it (about 10 s on this machine: QEMU's capability probe).
    public init() throws {
        // The script's `stop` removes the folder.
        var template = Array("/tmp/qmp-libvirtd-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        directory = String(cString: made)
        uri = try Self.script(["start", directory]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Kills the daemon at once (SIGKILL), leaving its clients' connections to break.
    public func kill() throws {
        let pid = try String(contentsOfFile: directory + "/libvirtd.pid", encoding: .utf8)
        guard let number = Int32(pid.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw FakeServerError("no pid in \(directory)/libvirtd.pid")
        }
        _ = Foundation.kill(number, SIGKILL)
    }

    /// Restarts the daemon as `systemctl restart libvirtd` does: SIGTERM, then a new daemon on
    /// the same folder and socket. Its running domains keep running, and the new daemon takes
    /// them over again.
    public func restart() throws {
        let pid = try String(contentsOfFile: directory + "/libvirtd.pid", encoding: .utf8)
        guard let number = Int32(pid.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw FakeServerError("no pid in \(directory)/libvirtd.pid")
        }
        _ = Foundation.kill(number, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(10)
        while Foundation.kill(number, 0) == 0 {
            guard ContinuousClock.now < deadline else { throw FakeServerError("libvirtd \(number) did not stop") }
            usleep(50_000)
        }
        let restarted = try Self.script(["start", directory]).trimmingCharacters(in: .whitespacesAndNewlines)
        guard restarted == uri else { throw FakeServerError("the restarted libvirtd is at \(restarted), not \(uri)") }
    }

    deinit {
        _ = try? Self.script(["stop", directory])
    }

    /// Runs scripts/private-libvirtd.sh (which closes what it inherits before starting the
    /// daemon), its output to a file: nothing of ours may stay open in a daemon that outlives it.
    private static func script(_ arguments: [String]) throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let scratch = try TemporaryDirectory(prefix: "qmp-libvirtd-out")
        let outputPath = scratch.file("output")
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [root.appendingPathComponent("scripts/private-libvirtd.sh").path] + arguments
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try output.close()
        process.waitUntilExit()
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            throw FakeServerError("private-libvirtd.sh \(arguments.joined(separator: " ")) failed: \(text)")
        }
        return text
    }
}

/// A TCG domain with no disk on the private libvirtd: transient and running (`virsh create`),
/// destroyed on deinit; or only defined (`virsh define`), never started, undefined on deinit.
public final class LibvirtTestDomain: Sendable {
    public let name: String
    private let uri: String?
    private let running: Bool

    /// Creates the domain and starts it unless `running` is false (on the suite's daemon unless
    /// `uri` names another); `name` must be unique among the running tests' domains.
    public init(name: String, uri: String? = nil, running: Bool = true) throws {
        self.name = name
        self.uri = uri
        self.running = running
        let directory = try TemporaryDirectory(prefix: "qmp-domain")
        let xml = directory.file("domain.xml")
        try """
        <domain type='qemu'>
          <name>\(name)</name>
          <memory unit='MiB'>64</memory>
          <os><type arch='x86_64' machine='q35'>hvm</type></os>
          <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>
        </domain>
        """.write(toFile: xml, atomically: true, encoding: .utf8)
        try PrivateLibvirtd.virsh([running ? "create" : "define", xml], uri: uri)
    }

    /// The domain's UUID, as virsh prints it.
    public func uuid() throws -> String {
        try PrivateLibvirtd.virsh(["domuuid", name]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The domain's id, as virsh prints it.
    public func id() throws -> String {
        try PrivateLibvirtd.virsh(["domid", name]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    deinit {
        _ = try? PrivateLibvirtd.virsh([running ? "destroy" : "undefine", name], uri: uri)
    }
}
