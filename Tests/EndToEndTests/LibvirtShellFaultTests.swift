import Foundation
import QMPTestSupport
import Testing

/// What goes wrong with libvirt, each said in one line with exit status 3 (connection) or 1 (a line).
@Suite("The shell through libvirt: faults", .serialized, .timeLimit(.minutes(2)))
struct LibvirtShellFaultTests {
    @Test(arguments: [
        (
            "qemu:///system?socket=/nonexistent/libvirt-sock", "could not connect to libvirt at",
            "No such file or directory"
        ),
        (
            "qemu+tcp://127.0.0.1:1/system", "could not connect to libvirt at qemu+tcp://127.0.0.1:1/system",
            "Connection refused"
        ),
    ])
    func anUnreachableDaemonIsOneLineAndExitThree(uri: String, says: String, because: String) throws {
        let result = try ShellBinary.run(["--domain", "vm", "--connect", uri, "-c", "query-status"])
        #expect(result.status == 3)
        let lines = result.standardError.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains(says) && lines[0].contains(because), "\(result.standardError)")
    }

    @Test func permissionDeniedOnTheDaemonsSocketIsSaid() throws {
        // The suite's daemon's socket is its owner's (0700): another user is refused.
        let result = try ShellBinary.run(
            [
                "--reuid=65534", "--regid=65534", "--clear-groups", ShellBinary.path,
                "--domain", "vm", "--connect", try PrivateLibvirtd.uri(), "-c", "query-status",
            ], executable: "/usr/bin/setpriv")
        #expect(result.status == 3)
        #expect(result.standardError.contains("Permission denied"), "\(result.standardError)")
    }

    @Test func aDomainThatIsNotRunningIsSaid() throws {
        let domain = try LibvirtTestDomain(name: "qmp-shell-defined", running: false)
        defer { withExtendedLifetime(domain) {} }
        let result = try ShellBinary.run([
            "--domain", domain.name, "--connect", try PrivateLibvirtd.uri(), "-c", "query-status",
        ])
        #expect(result.status == 3)
        #expect(result.standardError.contains("domain 'qmp-shell-defined' on"), "\(result.standardError)")
        #expect(result.standardError.contains("is not running"), "\(result.standardError)")
    }

    @Test func aRemoteURIWorksUnchangedButPassesNoDescriptors() throws {
        let domain = try LibvirtTestDomain(name: "qmp-shell-remote")
        let result = try ShellBinary.run([
            "--domain", domain.name, "--connect", try PrivateLibvirtd.tcpURI(),
            "-c", "query-status", "-c", ".add-fd /dev/null opaque=x",
        ])
        #expect(result.status == 1, "the .add-fd line fails: \(result.standardError)")
        #expect(result.standardOutput.contains(#""status":"running""#), "\(result.standardOutput)")
        #expect(
            result.standardError.contains("file descriptors can only be passed to a domain of a local libvirtd"),
            "\(result.standardError)")
    }

    @Test func descriptorsPassToADomainOfTheLocalDaemon() throws {
        let domain = try LibvirtTestDomain(name: "qmp-shell-fds")
        let result = try ShellBinary.run([
            "--domain", domain.name, "--connect", try PrivateLibvirtd.uri(),
            "-c", ".add-fd /dev/null opaque=through-libvirt", "-c", "query-fdsets",
        ])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("through-libvirt"), "\(result.standardOutput)")
    }

    @Test func libvirtdDyingMidSessionEndsItWithOneLine() throws {
        var daemon: ExtraLibvirtd? = try ExtraLibvirtd()
        let uri = daemon!.uri
        var domain: LibvirtTestDomain? = try LibvirtTestDomain(name: "qmp-shell-orphan", uri: uri)
        #expect(domain?.name == "qmp-shell-orphan")
        let terminal = try PseudoTerminalSession(
            executable: ShellBinary.path, arguments: ["--domain", "qmp-shell-orphan", "--connect", uri],
            environment: ["NO_COLOR": "1", "HOME": "/nonexistent"])
        try terminal.waitForText("(QEMU) ", timeout: .seconds(30))
        try daemon!.kill()
        try terminal.waitForText("libvirtd closed the connection", timeout: .seconds(30))
        #expect(try terminal.waitForExit(timeout: .seconds(20)) == 3)
        // The daemon died without its domain: stopping what is left takes the domain's QEMU too.
        domain = nil
        daemon = nil
        #expect(Self.runningQEMUs(named: "qmp-shell-orphan").isEmpty, "a QEMU of the killed daemon is still running")
    }

    /// Process ids of QEMUs started for a domain called `name` (libvirt names the guest on QEMU's
    /// command line).
    static func runningQEMUs(named name: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { entry in
            guard Int(entry) != nil, let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else {
                return false
            }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return arguments.first?.hasSuffix("qemu-system-x86_64") == true
                && arguments.contains("guest=\(name),debug-threads=on")
        }
    }
}
