import Foundation
import QMP
import QMPTestSupport
import QMPTestTraits
import Synchronization
import Testing

/// The cached schema serves Tab while the server's is on its way, and decides nothing: a line typed
/// in that moment waits for the server's schema.
@Suite("A cached schema before the server confirms it", .timeLimit(.minutes(2)), .checksFakeServerScripts)
struct UnconfirmedCacheTests {
    @Test func aLineTypedWhileTheServersSchemaIsOnItsWayIsNotJudgedByTheCache() throws {
        let schema = try RecordedSchema.introspection("8.2.0")
        let home = try TemporaryDirectory(prefix: "qmp-home")
        let cacheHome = home.file("xdg-cache")
        let environment = ["HOME": home.path, "XDG_CACHE_HOME": cacheHome, "NO_COLOR": "1"]
        let line = "block-dirty-bitmap-add node=nowhere name=b"
        // In the second session, the server holds back its schema until the test has entered its line.
        let holdBack = HoldBack()
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            while let message = connection.readMessage(timeout: .seconds(60)) {
                switch message["execute"]?.stringValue {
                case "query-target": connection.reply(to: message, with: ["arch": "x86_64"])
                case "query-qmp-schema":
                    holdBack.waitIfHolding()
                    connection.reply(to: message, with: schema)
                case "block-dirty-bitmap-add":
                    connection.replyError(
                        to: message, description: "Cannot find device='nowhere' nor node-name='nowhere'")
                case "query-commands": connection.reply(to: message, with: [["name": "block-dirty-bitmap-add"]])
                default: connection.reply(to: message, with: [:])
                }
            }
        }
        // A first session caches the schema; then it is poisoned: the command takes no arguments.
        _ = try ShellBinary.run(["-c", line, server.path], environment: environment)
        let files = try FileManager.default.contentsOfDirectory(atPath: cacheHome + "/qmp-shell")
        let cached = cacheHome + "/qmp-shell/" + files[0]
        var poisoned = try #require(
            try JSONParser.parse(try String(contentsOfFile: cached, encoding: .utf8)).objectValue)
        poisoned["schema"] = try JSONParser.parse(
            #"[{"name": "block-dirty-bitmap-add", "meta-type": "command", "arg-type": "0", "ret-type": "0"}, "#
                + #"{"name": "0", "meta-type": "object", "members": []}]"#)
        try JSONValue.object(poisoned).serialized().write(toFile: cached, atomically: false, encoding: .utf8)

        holdBack.hold()
        defer { holdBack.release() }
        let terminal = try PseudoTerminalSession(
            executable: ShellBinary.path, arguments: [server.path], environment: environment)
        try terminal.waitForText("(QEMU) ", timeout: .seconds(30))
        // Tab offers the cached schema's command at once (the server's schema is held back)...
        terminal.send("block-dirty")
        try terminal.pressTab(until: { $0.description.contains("(QEMU) block-dirty-bitmap-add") })
        // ...but the line is judged by the server's schema, once it comes: sent, and QEMU's answer shown.
        terminal.send("\u{15}" + line + "\r")
        // Entered: the line stays on screen and the cursor goes below it while the line runs (a
        // judgement by the cache would print its refusal and a new prompt at once).
        try terminal.waitForScreen(timeout: .seconds(20)) { screen in
            guard let row = screen.lines.lastIndex(where: { $0.hasSuffix(line) }) else { return false }
            return screen.cursorRow > row
        }
        #expect(!terminal.transcript.contains("takes no arguments"), "\(terminal.screen)")
        holdBack.release()
        try terminal.waitForText("Cannot find device='nowhere'", timeout: .seconds(30))
        #expect(!terminal.transcript.contains("takes no arguments"), "\(terminal.screen)")
    }
}

/// A gate a fake-server script waits at while the test holds it.
private final class HoldBack: Sendable {
    private let held = Mutex(false)
    private let gate = DispatchSemaphore(value: 0)

    func hold() { held.withLock { $0 = true } }

    func release() {
        let wasHeld = held.withLock { held in
            defer { held = false }
            return held
        }
        if wasHeld { gate.signal() }
    }

    func waitIfHolding() {
        if held.withLock({ $0 }) { _ = gate.wait(timeout: .now() + 30) }
    }
}
