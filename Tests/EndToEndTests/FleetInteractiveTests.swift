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
}
