import Foundation
import QMP
import QMPTestSupport
import QMPTestTraits
import Testing

/// Tab completes names the running VM knows, asked of real QEMU when Tab is pressed.
@Suite("Live values on Tab against real QEMU", .serialized, .timeLimit(.minutes(2)), .checksFakeServerScripts)
struct LiveCompletionTests {
    /// Types `partial`, presses Tab until the line reads `expected` (a trailing space included:
    /// the screen's lines are trimmed, the cursor is not), then drops the line (Ctrl-C).
    static func expectTab(_ partial: String, completesTo expected: String, in terminal: PseudoTerminalSession) throws {
        terminal.send(partial)
        try terminal.waitForScreen { $0.lines.last { !$0.isEmpty } == "(QEMU) " + partial }
        let shown = "(QEMU) " + expected
        try terminal.pressTab(until: {
            $0.lines.last { !$0.isEmpty } == shown.trimmingCharacters(in: .whitespaces)
                && $0.cursorColumn == shown.count
        })
        terminal.send("\u{3}")
        try terminal.waitForScreen { $0.lines.last { !$0.isEmpty } == "(QEMU)" }
    }

    @Test func tabOffersEachKindOfNameTheVMHas() throws {
        // A PC machine (stopped) so that a PCI device can be added.
        let qemu = try QEMUInstance(machine: "pc", extraArguments: ["-S"])
        let home = try TemporaryDirectory(prefix: "qmp-home")
        let source = try qemu.directory.filledFile("source.raw", megabytes: 4)
        let terminal = try LiveTerminal.open(on: qemu, home: home, environment: ["NO_COLOR": "1"])
        try LiveTerminal.run("blockdev-add driver=file node-name=disk0 filename=\(source)", in: terminal)
        try LiveTerminal.run("blockdev-add driver=null-co node-name=sink size=4194304", in: terminal)
        try Self.expectTab(
            "block-dirty-bitmap-add node=di", completesTo: "block-dirty-bitmap-add node=disk0 ", in: terminal)
        try Self.expectTab(
            "blockdev-backup device=disk0 target=si", completesTo: "blockdev-backup device=disk0 target=sink ",
            in: terminal)
        try LiveTerminal.run("device_add driver=pci-testdev id=tdev", in: terminal)
        try Self.expectTab("device_del id=td", completesTo: "device_del id=tdev ", in: terminal)
        try LiveTerminal.run(
            "blockdev-backup job-id=slowjob device=disk0 target=sink sync=full speed=4096", in: terminal)
        try Self.expectTab("job-pause id=s", completesTo: "job-pause id=slowjob ", in: terminal)
        try Self.expectTab(
            "block-job-set-speed device=s", completesTo: "block-job-set-speed device=slowjob ", in: terminal)
        try LiveTerminal.run("object-add qom-type=memory-backend-ram id=mem0 size=1048576", in: terminal)
        try Self.expectTab("object-del id=m", completesTo: "object-del id=mem0 ", in: terminal)
        try LiveTerminal.run(#"chardev-add id=chr0 backend={"type":"null","data":{}}"#, in: terminal)
        try Self.expectTab("chardev-remove id=ch", completesTo: "chardev-remove id=chr0 ", in: terminal)
        try LiveTerminal.run("netdev_add type=user id=net0", in: terminal)
        try Self.expectTab("netdev_del id=n", completesTo: "netdev_del id=net0 ", in: terminal)
        try Self.expectTab(
            "device_add driver=e1000 netdev=n", completesTo: "device_add driver=e1000 netdev=net0 ", in: terminal)
        // QOM paths a level at a time, then a property of the path typed.
        try Self.expectTab("qom-list path=/mach", completesTo: "qom-list path=/machine/", in: terminal)
        try Self.expectTab(
            "qom-list path=/machine/unatt", completesTo: "qom-list path=/machine/unattached/", in: terminal)
        try Self.expectTab(
            "qom-get path=/objects/mem0 property=si", completesTo: "qom-get path=/objects/mem0 property=size ",
            in: terminal)
        // A new node's own name is not completed with the existing ones.
        terminal.send("blockdev-add driver=null-co node-name=di\t")
        try terminal.waitForScreen {
            $0.lines.last { !$0.isEmpty } == "(QEMU) blockdev-add driver=null-co node-name=di"
        }
        terminal.send("\u{3}")
        try terminal.waitForScreen { $0.lines.last { !$0.isEmpty } == "(QEMU)" }
        terminal.send("\u{4}")
        #expect(try terminal.waitForExit() == 0)
    }

    @Test func aStoppedServerGivesNoCandidatesAndThePromptStaysLive() throws {
        let qemu = try QEMUInstance()
        let home = try TemporaryDirectory(prefix: "qmp-home")
        let terminal = try LiveTerminal.open(on: qemu, home: home, environment: ["NO_COLOR": "1"])
        // The schema is loaded (a typed line was checked against it) before QEMU stops.
        try LiveTerminal.run("object-add qom-type=memory-backend-ram id=mem0 size=1048576", in: terminal)
        kill(qemu.pid, SIGSTOP)
        defer { kill(qemu.pid, SIGCONT) }
        terminal.send("object-del id=m")
        try terminal.waitForScreen { $0.lines.last { !$0.isEmpty } == "(QEMU) object-del id=m" }
        let pressed = ContinuousClock.now
        terminal.send("\tx")
        // Tab gave up on the server (about 100 ms) and the next key was taken. The bound here is
        // loose: the machine may be busy; the shell's own bound is what ROBUSTNESS.md states.
        try terminal.waitForScreen(timeout: .seconds(5)) { $0.lines.last { !$0.isEmpty } == "(QEMU) object-del id=mx" }
        #expect(ContinuousClock.now - pressed < .seconds(1))
        kill(qemu.pid, SIGCONT)
        // Once the server answers, Tab completes again.
        terminal.send("\u{3}")
        try terminal.waitForScreen { $0.lines.last { !$0.isEmpty } == "(QEMU)" }
        try Self.expectTab("object-del id=m", completesTo: "object-del id=mem0 ", in: terminal)
        terminal.send("\u{4}")
        #expect(try terminal.waitForExit() == 0)
    }
}
