import Foundation
import QMP
import QMPTestSupport
import QMPTestTraits
import Synchronization
import Testing

/// `.qom-tree` on a server that has `qom-list-get` (QEMU 10.1 and later; the installed QEMU has
/// not): a fake server stands in for it, answering as QEMU 10.1 does (`qapi/qom.json`:
/// `[ObjectPropertiesValues]`, each `{"properties": [ObjectPropertyValue]}`, `value` absent
/// where the property cannot be read) with what a real QEMU holds.
@Suite(".qom-tree through qom-list-get", .timeLimit(.minutes(2)), .checksFakeServerScripts)
struct QOMListGetTests {
    /// Every object below `roots` in `qemu`, answered as `qom-list-get` answers for its path:
    /// each property with the value `qom-get` reads (QEMU 10.1 reads them the same way), in the
    /// reverse order of `qom-list` (QEMU prepends each property to its answer).
    static func snapshot(of qemu: QEMUInstance, below roots: [String]) async throws -> [String: JSONValue] {
        let client = try await qemu.control()
        defer { Task { await client.disconnect() } }
        var answers: [String: JSONValue] = [:]
        var pending = roots
        while let path = pending.popLast() {
            var properties: [JSONValue] = []
            for entry in try await client.execute("qom-list", arguments: ["path": .string(path)]).arrayValue ?? [] {
                let name = try #require(entry["name"]?.stringValue)
                let type = try #require(entry["type"]?.stringValue)
                var property: JSONObject = ["name": .string(name), "type": .string(type)]
                property["value"] = try? await client.execute(
                    "qom-get", arguments: ["path": .string(path), "property": .string(name)])
                properties.insert(.object(property), at: 0)
                if type.hasPrefix("child<") { pending.append(path == "/" ? "/" + name : path + "/" + name) }
            }
            answers[path] = ["properties": .array(properties)]
        }
        return answers
    }

    /// `schema` with `qom-list-get` and its types added, as QEMU 10.1's `query-qmp-schema` lists them.
    static func withQOMListGet(_ schema: JSONValue) throws -> JSONValue {
        var entries = try #require(schema.arrayValue)
        entries += [
            [
                "name": "qom-list-get", "meta-type": "command", "arg-type": "qom-list-get-arg",
                "ret-type": "[ObjectPropertiesValues]", "allow-oob": false,
            ],
            ["name": "qom-list-get-arg", "meta-type": "object", "members": [["name": "paths", "type": "[str]"]]],
            ["name": "[ObjectPropertiesValues]", "meta-type": "array", "element-type": "ObjectPropertiesValues"],
            [
                "name": "ObjectPropertiesValues", "meta-type": "object",
                "members": [["name": "properties", "type": "[ObjectPropertyValue]"]],
            ],
            ["name": "[ObjectPropertyValue]", "meta-type": "array", "element-type": "ObjectPropertyValue"],
            [
                "name": "ObjectPropertyValue", "meta-type": "object",
                "members": [
                    ["name": "name", "type": "str"], ["name": "type", "type": "str"],
                    ["name": "value", "type": "any", "default": .null],
                ],
            ],
        ]
        if !entries.contains(where: { $0["name"] == "[str]" }) {
            entries.append(["name": "[str]", "meta-type": "array", "element-type": "str"])
        }
        return .array(entries)
    }

    /// A QEMU 10.1 holding `answers`: `qom-list-get` from them; `qom-list` and `qom-get` too
    /// (so a shell that used them still gets a tree, and the test says which it used); every
    /// command received is told to `received`.
    static func server(
        schema: JSONValue, answers: [String: JSONValue], received: @escaping @Sendable (String) -> Void
    ) throws -> FakeQMPServer {
        try FakeQMPServer { connection in
            try connection.handshake(version: "10.1.0")
            while let message = connection.readMessage(timeout: .seconds(30)) {
                let command = message["execute"]?.stringValue ?? ""
                received(command)
                let path = message["arguments"]?["path"]?.stringValue ?? ""
                let properties = answers[path]?["properties"]?.arrayValue
                switch command {
                case "query-target": connection.reply(to: message, with: ["arch": "x86_64"])
                case "query-qmp-schema": connection.reply(to: message, with: schema)
                case "qom-list-get":
                    let paths = message["arguments"]?["paths"]?.arrayValue?.compactMap(\.stringValue) ?? []
                    if let missing = paths.first(where: { answers[$0] == nil }) {
                        connection.replyError(to: message, description: "Path '\(missing)' does not exist")
                    } else {
                        connection.reply(to: message, with: .array(paths.compactMap { answers[$0] }))
                    }
                case "qom-list" where properties != nil:
                    let listed = properties?.map { entry -> JSONValue in
                        ["name": entry["name"] ?? .null, "type": entry["type"] ?? .null]
                    }
                    connection.reply(to: message, with: .array(listed ?? []))
                case "qom-get":
                    let name = message["arguments"]?["property"]
                    if let value = properties?.first(where: { $0["name"] == name })?["value"] {
                        connection.reply(to: message, with: value)
                    } else {
                        connection.replyError(to: message, description: "cannot read")
                    }
                default:
                    connection.replyError(to: message, errorClass: "CommandNotFound", description: "no \(command)")
                }
            }
        }
    }

    /// What `.qom-tree` prints for each of `roots`, on a terminal (indented) and through a pipe
    /// (JSON lines), with a cache folder of its own.
    static func trees(of socket: String, roots: [String]) throws -> (terminal: String, pipe: String) {
        let home = try TemporaryDirectory(prefix: "qmp-home")
        let environment = ["HOME": home.path, "XDG_CACHE_HOME": home.file("cache"), "NO_COLOR": "1"]
        let lines = roots.flatMap { ["-c", ".qom-tree \($0)"] }
        let terminal = try PseudoTerminalSession(
            executable: ShellBinary.path, arguments: lines + [socket], environment: environment, columns: 200,
            rows: 50)
        #expect(try terminal.waitForExit(timeout: .seconds(30)) == 0, "\(terminal.transcript)")
        let piped = try ShellBinary.run(lines + [socket], environment: environment)
        #expect(piped.status == 0, "\(piped.standardError)")
        return (terminal.transcript, piped.standardOutput)
    }

    @Test func qomTreeReadsEachLevelWithQOMListGetAndShowsWhatQOMListAndQOMGetShow() async throws {
        let qemu = try QEMUInstance()
        let client = try await qemu.control()
        try await client.execute(
            "object-add", arguments: ["qom-type": "memory-backend-ram", "id": "mem0", "size": 1_048_576])
        try await client.execute("object-add", arguments: ["qom-type": "secret", "id": "sec0", "data": "x"])
        await client.disconnect()
        let roots = ["/machine", "/objects"]
        let answers = try await Self.snapshot(of: qemu, below: roots)
        let received = Mutex<[String]>([])
        let server = try Self.server(
            schema: Self.withQOMListGet(try await qemu.controlExecute("query-qmp-schema")), answers: answers,
            received: { command in received.withLock { $0.append(command) } })

        let real = try Self.trees(of: qemu.socketPath, roots: roots)
        let listGet = try Self.trees(of: server.path, roots: roots)

        #expect(real.terminal.contains("\r\n  mem0 <memory-backend-ram>\r\n"), "\(real.terminal)")
        #expect(real.terminal.contains("\r\n    size: int = 1048576\r\n"), "\(real.terminal)")
        #expect(listGet.terminal == real.terminal)
        #expect(listGet.pipe == real.pipe)
        let commands = received.withLock { $0 }
        #expect(commands.contains("qom-list-get"), "\(commands)")
        #expect(!commands.contains("qom-get") && !commands.contains("qom-list"), "\(commands)")
    }
}
