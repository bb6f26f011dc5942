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

    /// Runs `virsh -c URI ARGUMENTS...` and returns its standard output; throws with its standard
    /// error if it fails.
    @discardableResult
    public static func virsh(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/virsh")
        process.arguments = ["-q", "-c", try uri()] + arguments
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

/// A transient TCG domain with no disk on the private libvirtd (`virsh create`), destroyed on deinit.
public final class LibvirtTestDomain: Sendable {
    public let name: String

    /// Creates and starts the domain; `name` must be unique among the running tests' domains.
    public init(name: String) throws {
        self.name = name
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
        try PrivateLibvirtd.virsh(["create", xml])
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
        _ = try? PrivateLibvirtd.virsh(["destroy", name])
    }
}
