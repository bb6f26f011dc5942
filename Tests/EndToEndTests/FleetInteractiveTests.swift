import Foundation
import QMP
import QMPTestSupport
import Testing

/// The interactive shell on several targets, in a real pseudo-terminal: keystrokes in, screen out.
@Suite("Fleets: the interactive shell on many targets", .timeLimit(.minutes(2)))
struct FleetInteractiveTests {
    @Test func aLineGoesToEveryTargetAndTheirRepliesAndEventsAreShownUnderTheirNames() async throws {
        let qemus = try QEMUFleet(count: 3)
        let sockets = qemus.instances.map(\.socketPath)
        let scratch = try TemporaryDirectory()
        let dead = scratch.file("dead.sock")
        let terminal = try PseudoTerminalSession(
            executable: ShellBinary.path, arguments: sockets + [dead],
            environment: ["HOME": scratch.path, "NO_COLOR": "1"], columns: 200, rows: 50)
        // The prompt counts the connected targets; the dead one is said under its name.
        let start = try terminal.waitForText("(QEMU 3/4) ", timeout: .seconds(20))
        #expect(start.contains("Connected to 3 of 4 targets"), "\(start)")
        #expect(start.contains("\(dead): could not connect to \(dead)"), "\(start)")

        terminal.send("query-status\r")
        let replies = try terminal.waitForScreen { screen in
            sockets.allSatisfy { screen.contains("== \($0) ==") }
                && screen.text.components(separatedBy: #"{"return":{"status":"running""#).count == 4
        }
        // Each reply right under its target's name.
        let lines = replies.lines
        for socket in sockets {
            let header = try #require(lines.firstIndex(of: "== \(socket) =="))
            #expect(lines[header + 1].hasPrefix(#"{"return":{"status":"running""#), "\(replies)")
        }

        // An event between lines is shown at once, tagged.
        try await qemus.instances[1].controlExecute("stop")
        try terminal.waitForScreen { $0.contains(#"\#(sockets[1]): {"timestamp""#) && $0.contains(#""event":"STOP"}"#) }
        try await qemus.instances[1].controlExecute("cont")

        // .targets lists every target with its state.
        terminal.send(".targets\r")
        let listed = try terminal.waitForText("\(dead): unreachable: could not connect")
        for socket in sockets { #expect(listed.contains("\(socket): connected, QEMU "), "\(listed)") }

        // Tab completes from the first target's commands.
        terminal.send("query-statu\t")
        try terminal.waitForScreen { $0.lines.filter { $0.hasPrefix("(QEMU 3/4) query-status") }.count == 2 }
        terminal.send("\u{15}\u{4}")
        #expect(try terminal.waitForExit() == 0)
    }

    @Test func withReconnectATargetThatGoesAwayIsSaidTheOthersKeepWorkingAndItIsFollowedBack() async throws {
        let qemus = try QEMUFleet(count: 3)
        let sockets = qemus.instances.map(\.socketPath)
        let gone = sockets[1]
        let scratch = try TemporaryDirectory()
        // No server there yet: tried again in the background too.
        let late = scratch.file("late.sock")
        let terminal = try PseudoTerminalSession(
            executable: ShellBinary.path, arguments: ["--reconnect", "--retry-delay", "0.2"] + sockets + [late],
            environment: ["HOME": scratch.path, "NO_COLOR": "1"], columns: 200, rows: 50)
        let start = try terminal.waitForText("(QEMU 3/4) ", timeout: .seconds(20))
        #expect(start.contains("\(late): could not connect to \(late)"), "\(start)")
        #expect(start.contains("; retrying every 0.2 s"), "\(start)")
        qemus.instances[1].kill()
        // Said above the prompt under its name, and the prompt's count drops while it waits.
        let lost = try terminal.waitForScreen { screen in
            screen.contains("\(gone): ") && screen.contains("; reconnecting to \(gone)")
                && Self.prompt(on: screen) == "(QEMU 2/4)"
        }
        #expect(
            lost.lines.contains { $0.hasPrefix("\(gone): ") && $0.hasSuffix("; reconnecting to \(gone)") }, "\(lost)")

        // A line meanwhile runs on the two others, and names the missing ones once.
        terminal.send("query-status\r")
        let partial = try terminal.waitForScreen { screen in
            screen.text.components(separatedBy: #"{"return":{"status":"running""#).count == 3
                && screen.contains("not sent to \(gone), \(late) (not connected)")
                && Self.prompt(on: screen) == "(QEMU 2/4)"
        }
        #expect(!partial.contains("== \(gone) =="), "\(partial)")
        #expect(partial.text.components(separatedBy: "not sent to").count == 2, "\(partial)")

        // A new QEMU on the same socket: said, the count goes back up, the next line runs on it.
        let second = try QEMUInstance(socketPath: gone)
        let version = try QEMUInstance.installedVersion()
        try terminal.waitForScreen(timeout: .seconds(20)) { screen in
            screen.contains("\(gone): reconnected to QEMU \(version) at \(gone)")
                && Self.prompt(on: screen) == "(QEMU 3/4)"
        }
        // The one that was never there: reached once it listens.
        let third = try QEMUInstance(socketPath: late)
        try terminal.waitForScreen(timeout: .seconds(20)) { screen in
            screen.contains("\(late): connected to QEMU \(version) at \(late)")
                && Self.prompt(on: screen) == "(QEMU 4/4)"
        }
        terminal.send("query-status\r")
        try terminal.waitForScreen { screen in
            screen.contains("== \(gone) ==") && screen.contains("== \(late) ==")
                && screen.text.components(separatedBy: #"{"return":{"status":"running""#).count == 7
        }
        // Its events are shown again, tagged.
        try await second.controlExecute("stop")
        try terminal.waitForScreen { $0.contains(#"\#(gone): {"timestamp""#) && $0.contains(#""event":"STOP"}"#) }
        terminal.send("\u{4}")
        #expect(try terminal.waitForExit() == 0)
        _ = third
    }
    @Test func withoutReconnectALostTargetStaysLostAndWhenAllAreGoneTheShellEnds() async throws {
        let qemus = try QEMUFleet(count: 2)
        let sockets = qemus.instances.map(\.socketPath)
        let scratch = try TemporaryDirectory()
        let terminal = try PseudoTerminalSession(
            executable: ShellBinary.path, arguments: sockets,
            environment: ["HOME": scratch.path, "NO_COLOR": "1"], columns: 200, rows: 50)
        try terminal.waitForText("(QEMU 2/2) ", timeout: .seconds(20))
        qemus.instances[0].kill()
        try terminal.waitForScreen { screen in
            screen.lines.contains { $0.hasPrefix("\(sockets[0]): ") } && Self.prompt(on: screen) == "(QEMU 1/2)"
        }
        terminal.send("query-status\r")
        try terminal.waitForScreen { screen in
            screen.contains("== \(sockets[1]) ==") && screen.contains("not sent to \(sockets[0]) (not connected)")
        }
        terminal.send(".targets\r")
        try terminal.waitForText("\(sockets[0]): lost: ")
        #expect(!terminal.screen.contains("reconnecting"), "\(terminal.screen)")
        // The last one gone: nothing is left to send lines to, and the shell ends with 3.
        qemus.instances[1].kill()
        try terminal.waitForText("no target is connected any more")
        #expect(try terminal.waitForExit() == 3)
    }

    /// `quit` on every target ends the shell as `quit` on one does: with success, no error.
    @Test func quitOnEveryTargetEndsTheShellWithSuccess() throws {
        let qemus = try QEMUFleet(count: 2)
        let scratch = try TemporaryDirectory()
        let terminal = try PseudoTerminalSession(
            executable: ShellBinary.path, arguments: qemus.instances.map(\.socketPath),
            environment: ["HOME": scratch.path, "NO_COLOR": "1"], columns: 200, rows: 50)
        try terminal.waitForText("(QEMU 2/2) ", timeout: .seconds(20))
        terminal.send("quit\r")
        #expect(try terminal.waitForExit() == 0, "\(terminal.screen)")
        #expect(!terminal.screen.contains("no target is connected"), "\(terminal.screen)")
    }

    /// With `--reconnect`, targets that are not there yet are waited for, as on one target: the
    /// prompt comes with the first that answers.
    @Test func withReconnectTheShellWaitsForTargetsNotThereYet() throws {
        let scratch = try TemporaryDirectory()
        let sockets = [scratch.file("a.sock"), scratch.file("b.sock")]
        let terminal = try PseudoTerminalSession(
            executable: ShellBinary.path, arguments: ["--reconnect", "--retry-delay", "0.2"] + sockets,
            environment: ["HOME": scratch.path, "NO_COLOR": "1"], columns: 200, rows: 50)
        try terminal.waitForText("retrying every 0.2 s")
        #expect(!terminal.screen.contains("no target could be reached"), "\(terminal.screen)")
        let qemu = try QEMUInstance(socketPath: sockets[1])
        try terminal.waitForText("(QEMU 1/2) ", timeout: .seconds(20))
        #expect(terminal.screen.contains("connected to QEMU"), "\(terminal.screen)")
        terminal.send("query-status\r")
        try terminal.waitForText("not sent to \(sockets[0]) (not connected)")
        #expect(terminal.screen.contains("== \(sockets[1]) =="), "\(terminal.screen)")
        terminal.send("\u{4}")
        #expect(try terminal.waitForExit() == 0)
        _ = qemu
    }

    @Test func helpSaysOnWhichTargetsACommandIsMissing() async throws {
        let qemu = try QEMUInstance()
        // Another server, without `stop` among its commands.
        let smaller = try FakeQMPServer { connection in
            try connection.handshake()
            while let message = connection.readMessage(timeout: .seconds(60)) {
                if message["execute"] == "query-commands" {
                    connection.reply(
                        to: message,
                        with: .array(["qmp_capabilities", "query-status"].map { .object(["name": .string($0)]) }))
                } else {
                    connection.replyError(to: message, errorClass: "CommandNotFound", description: "not here")
                }
            }
        }
        defer { smaller.stop() }
        // And one that never answers once connected: left out of the count, without holding `.help` up.
        let silent = try FakeQMPServer { connection in
            try connection.handshake()
            while connection.readMessage(timeout: .seconds(60)) != nil {}
        }
        defer { silent.stop() }
        let scratch = try TemporaryDirectory()
        let terminal = try PseudoTerminalSession(
            executable: ShellBinary.path, arguments: [qemu.socketPath, smaller.path, silent.path],
            environment: ["HOME": scratch.path, "NO_COLOR": "1"], columns: 200, rows: 50)
        try terminal.waitForText("(QEMU 3/3) ", timeout: .seconds(20))
        // A command they have: the first's help, nothing more.
        terminal.send(".help query-status\r")
        try terminal.waitForScreen { $0.lines.filter { $0.hasPrefix("(QEMU 3/3)") }.count == 2 }
        #expect(!terminal.screen.contains("missing"), "\(terminal.screen)")
        // One the second lacks: named once.
        terminal.send(".help stop\r")
        let screen = try terminal.waitForText(
            "qmp-shell: stop is missing on \(smaller.path) (1 of 3 connected targets)")
        #expect(screen.text.components(separatedBy: "is missing").count == 2, "\(screen)")
        terminal.send("\u{4}")
        #expect(try terminal.waitForExit() == 0)
    }

    /// The row the cursor is on: the prompt and what is typed after it.
    private static func prompt(on screen: TerminalScreen) -> String { screen.line(at: screen.cursorRow) }
}
