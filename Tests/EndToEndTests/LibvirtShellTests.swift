import Foundation
import QMPTestSupport
import Testing

/// The built shell on VMs that libvirt manages (`--domain`), against real domains of the private
/// libvirtd `make test` starts: scripts, events, the interactive shell, --watch across a restart.
@Suite("The shell through libvirt", .serialized, .timeLimit(.minutes(2)))
struct LibvirtShellTests {
    @Test func aScriptRunsOnADomainWithEventsIdsAndLibvirtsLimitsSaid() throws {
        let domain = try LibvirtTestDomain(name: "qmp-shell-script")
        let result = try ShellBinary.run([
            "--domain", domain.name, "--connect", try PrivateLibvirtd.uri(),
            "-c", "query-status", "-c", "stop", "-c", ".wait STOP timeout=10", "-c", "cont",
            "-c", #"{"execute": "query-status", "id": "mine"}"#,
            "-c", #"{"exec-oob": "query-status"}"#,
        ])
        #expect(result.status == 1, "the exec-oob line fails: \(result.standardError)")
        let lines = result.lines
        #expect(lines.first?.contains(#""status":"running""#) == true, "\(lines)")
        #expect(lines.filter { $0.contains(#""event":"STOP""#) }.count == 1, "\(lines)")
        #expect(lines.contains { $0.contains(#""id":"mine""#) && $0.contains(#""return""#) }, "\(lines)")
        #expect(result.standardError.contains("exec-oob cannot go through libvirt"), "\(result.standardError)")
        // libvirt's taint warning, once.
        #expect(
            result.standardError.components(separatedBy: "tainted (custom-monitor)").count == 2,
            "\(result.standardError)")
    }

    @Test func theDefaultURIComesFromTheEnvironmentAndADomainIsFoundByUUID() throws {
        let domain = try LibvirtTestDomain(name: "qmp-shell-uuid")
        let result = try ShellBinary.run(
            ["--domain", try domain.uuid(), "-c", "query-name"],
            environment: ["LIBVIRT_DEFAULT_URI": try PrivateLibvirtd.uri()])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains(#"{"return":{"#), "\(result.standardOutput)")
        let missing = try ShellBinary.run(
            ["--domain", "no-such-domain", "-c", "query-name"],
            environment: ["LIBVIRT_DEFAULT_URI": try PrivateLibvirtd.uri()])
        #expect(missing.status == 3)
        #expect(missing.standardError.contains("no domain 'no-such-domain'"), "\(missing.standardError)")
    }

    @Test func hmpAndWatchWorkThroughLibvirt() throws {
        let domain = try LibvirtTestDomain(name: "qmp-shell-hmp-watch")
        let uri = try PrivateLibvirtd.uri()
        let hmp = try ShellBinary.run(["--domain", domain.name, "--connect", uri, "-H", "-c", "info status"])
        #expect(hmp.status == 0, "\(hmp.standardError)")
        #expect(hmp.standardOutput == "VM status: running\r\n", "\(hmp.standardOutput)")
        let watcher = try PseudoTerminalSession(
            executable: ShellBinary.path,
            arguments: ["--domain", domain.name, "--connect", uri, "--watch", "--event", "RESUME", "--count", "1"],
            environment: ["NO_COLOR": "1"])
        try watcher.waitForOutput(containing: "tainted", timeout: .seconds(30))
        try PrivateLibvirtd.virsh(["suspend", domain.name])  // STOP is not watched
        try PrivateLibvirtd.virsh(["resume", domain.name])
        #expect(try watcher.waitForExit(timeout: .seconds(20)) == 0)
        #expect(watcher.transcript.contains("RESUME") && !watcher.transcript.contains("STOP"), "\(watcher.transcript)")
    }

    @Test func listDomainsPrintsTheRunningDomains() throws {
        let domain = try LibvirtTestDomain(name: "qmp-shell-listed")
        let result = try ShellBinary.run(["--list-domains", "--connect", try PrivateLibvirtd.uri()])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.lines.contains(domain.name), "\(result.lines)")
        // What the generated completions run on Tab after `--connect URI --domain ` (bash's form).
        let completed = try ShellBinary.run([
            "---completion", "--", "--domain", "4", "0", "qmp-shell", "--connect", try PrivateLibvirtd.uri(),
            "--domain", "",
        ])
        #expect(completed.lines.contains(domain.name), "\(completed.lines)")
    }

    @Test func quitEndsTheDomainAndSaysSo() throws {
        let domain = try LibvirtTestDomain(name: "qmp-shell-quit")
        let result = try ShellBinary.run([
            "--domain", domain.name, "--connect", try PrivateLibvirtd.uri(), "-c", "quit",
        ])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.contains("libvirt sees domain '\(domain.name)' stop"), "\(result.standardError)")
        // libvirt notices QEMU's exit a moment later.
        let deadline = ContinuousClock.now + .seconds(20)
        while try PrivateLibvirtd.virsh(["list", "--name"]).contains(domain.name), ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(!(try PrivateLibvirtd.virsh(["list", "--name"]).contains(domain.name)), "the domain is still running")
    }

    @Test func theInteractiveShellCompletesShowsEventsInlineAndNamesTheDomain() throws {
        let domain = try LibvirtTestDomain(name: "qmp-shell-interactive")
        let home = try TemporaryDirectory(prefix: "qmp-home")
        let uri = try PrivateLibvirtd.uri()
        let terminal = try PseudoTerminalSession(
            executable: ShellBinary.path, arguments: ["--domain", domain.name, "--connect", uri],
            environment: ["HOME": home.path, "NO_COLOR": "1"])
        let screen = try terminal.waitForText("(QEMU) ", timeout: .seconds(30))
        #expect(screen.description.contains("through libvirt: domain '\(domain.name)'"), "\(screen)")
        // Tab: command names come from the domain's QEMU.
        terminal.send("query-nam")
        try terminal.pressTab(until: { $0.description.contains("(QEMU) query-name") }, timeout: .seconds(20))
        terminal.send("\r")
        try terminal.waitForText(#"{"return":{"#, timeout: .seconds(20))
        // Tab on an argument's value, from the domain's schema.
        terminal.send("blockdev-add driver=qco")
        try terminal.pressTab(
            until: { $0.description.contains("(QEMU) blockdev-add driver=qcow") }, timeout: .seconds(20))
        // An event from libvirt's callback, shown above the half-typed line, which stays as it was.
        try PrivateLibvirtd.virsh(["suspend", domain.name])
        let shown = try terminal.waitForScreen(timeout: .seconds(20)) { screen in
            guard let event = screen.lines.firstIndex(where: { $0.contains(#""event":"STOP""#) }),
                let prompt = screen.lines.lastIndex(where: { $0.hasPrefix("(QEMU) blockdev-add driver=qcow") })
            else { return false }
            return event < prompt
        }
        #expect(
            shown.lines.last(where: { !$0.isEmpty })?.hasPrefix("(QEMU) blockdev-add driver=qcow") == true, "\(shown)")
        terminal.send("\u{3}")
        try terminal.waitForScreen(timeout: .seconds(20)) { $0.lines.last(where: { !$0.isEmpty }) == "(QEMU)" }
        terminal.send("\u{4}")
        #expect(try terminal.waitForExit(timeout: .seconds(20)) == 0)
    }

    @Test func watchWithReconnectFollowsTheDomainAcrossARestart() throws {
        let uri = try PrivateLibvirtd.uri()
        var domain: LibvirtTestDomain? = try LibvirtTestDomain(name: "qmp-shell-watch")
        let terminal = try PseudoTerminalSession(
            executable: ShellBinary.path,
            arguments: [
                "--domain", "qmp-shell-watch", "--connect", uri, "--watch", "--reconnect", "--retry-delay", "0.2",
            ],
            environment: ["NO_COLOR": "1"])
        try terminal.waitForOutput(containing: "tainted", timeout: .seconds(30))
        domain = nil  // destroyed: the domain stops
        try terminal.waitForOutput(containing: "domain 'qmp-shell-watch' stopped", timeout: .seconds(20))
        domain = try LibvirtTestDomain(name: "qmp-shell-watch")
        try terminal.waitForOutput(containing: "reconnected to QEMU", timeout: .seconds(30))
        try PrivateLibvirtd.virsh(["suspend", "qmp-shell-watch"])
        try terminal.waitForOutput(containing: "STOP", timeout: .seconds(20))
        _ = domain
        terminal.send("\u{3}")
        _ = try terminal.waitForExit(timeout: .seconds(20))
    }
}
