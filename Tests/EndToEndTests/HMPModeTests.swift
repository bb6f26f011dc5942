import QMPTestSupport
import Testing

/// HMP mode (`-H`) against real QEMU: Tab completes HMP commands and `info` topics in a real
/// pseudo-terminal; replies are printed once, as QEMU wrote them; HMP's error replies and CPUs
/// that do not exist fail the line.
@Suite("HMP mode against real QEMU", .serialized, .timeLimit(.minutes(2)))
struct HMPModeTests {
    typealias Session = InteractiveShellTests.Session

    @Test func tabCompletesHMPCommandsAndInfoTopics() throws {
        let session = try Session(arguments: ["-H"])
        // The names arrive (from `help` and `help info`) just after the first prompt.
        session.terminal.send("inf")
        // (The screen's lines end at their last character: the space after `info` shows as the cursor.)
        try InteractiveShellTests().pressTabUntil(session) { screen in
            screen.lines.last(where: { !$0.isEmpty }) == "(QEMU) info" && screen.cursorColumn == "(QEMU) info ".count
        }
        session.terminal.send("bl")
        try InteractiveShellTests().pressTabUntil(session) {
            $0.lines.last(where: { !$0.isEmpty }) == "(QEMU) info block"
        }
        session.terminal.send("\u{3}")
        try session.waitForPromptLine("(QEMU)")

        // Several commands: listed under the line (long names only: `quit`, not its alias `q`).
        session.terminal.send("q\t")
        let listed = try session.waitForPromptLine("(QEMU) q", below: "qom-list")
        let list = listed.lines.first { $0.contains("qom-list") }?.split(separator: " ")
        #expect(list == ["qemu-io", "qom-get", "qom-list", "qom-set", "quit"], "\(listed)")
        session.terminal.send("\u{3}")
        try session.waitForPromptLine("(QEMU)")

        // A reply is shown once, with no blank line before the next prompt.
        session.terminal.send("info status\r")
        let shown = try session.waitForPromptLine("(QEMU)", below: "VM status: running")
        let lines = shown.lines
        let entered = try #require(lines.lastIndex(of: "(QEMU) info status"), "\(shown)")
        #expect(
            Array(lines[entered...].prefix(3)) == ["(QEMU) info status", "VM status: running", "(QEMU)"], "\(shown)")

        session.terminal.send("help announce_s\t")
        try session.waitForPromptLine("(QEMU) help announce_self")
        session.terminal.send("\u{3}")
        #expect(try session.leave() == 0)
    }

    @Test func eachReplyIsPrintedOnceWithQEMUsOwnLineEnds() throws {
        let qemu = try QEMUInstance()
        let result = try ShellBinary.run([
            "-H", "-c", "info status", "-c", "cont", "-c", "info status", qemu.socketPath,
        ])
        #expect(result.status == 0, "\(result.standardError)")
        // `cont` answers nothing, and nothing is printed for it.
        #expect(Array(result.standardOutput.utf8) == Array("VM status: running\r\nVM status: running\r\n".utf8))
        #expect(result.standardError.isEmpty)
    }

    @Test(arguments: [
        ("bogus", "unknown command: 'bogus'"),
        ("info bogus", "unknown command: 'info bogus'"),
        ("device_del nope", "Error: Device 'nope' not found"),
        ("stop now", #"stop|s: extraneous characters at the end of line; Try "help stop" for more information"#),
    ])
    func hmpErrorRepliesFailTheLineOnStandardError(line: String, message: String) throws {
        let qemu = try QEMUInstance()
        let result = try ShellBinary.run(["-H", "-c", line, "-c", "info status", qemu.socketPath])
        #expect(result.status == 1)
        #expect(result.standardOutput.isEmpty, "the run stops at the failing line")
        #expect(result.standardError == "-c:1: \(message)\n")
    }

    @Test func otherRepliesAreOutputEvenWhenTheyDescribeAFailure() throws {
        let qemu = try QEMUInstance()
        let result = try ShellBinary.run(
            ["-H", "-f", "-", qemu.socketPath], input: "drive_del x\nbogus\ninfo status\n")
        #expect(result.status == 1)
        #expect(result.standardOutput == "Device 'x' not found\r\n")
        #expect(result.standardError == "<stdin>:2: unknown command: 'bogus'\n")
    }

    @Test func aCPUThatDoesNotExistIsRefusedAtOnce() throws {
        let qemu = try QEMUInstance(machine: "pc", extraArguments: ["-S", "-smp", "2"])
        let script = "cpu 5\ninfo status\ncpu 1\ninfo status\n"
        let result = try ShellBinary.run(["-H", "--keep-going", "-f", "-", qemu.socketPath], input: script)
        #expect(result.status == 1)
        #expect(result.standardError == "<stdin>:1: cpu: there is no CPU 5 (CPUs: 0, 1)\n")
        #expect(result.standardOutput == "VM status: paused (prelaunch)\r\nVM status: paused (prelaunch)\r\n")

        let none = try QEMUInstance()
        let refused = try ShellBinary.run(["-H", "-c", "cpu 0", none.socketPath])
        #expect(refused.status == 1)
        #expect(refused.standardError == "-c:1: cpu: there is no CPU 0 (this machine has no CPU)\n")
    }
}
