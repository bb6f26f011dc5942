import Foundation
import QMP
import QMPTestSupport
import QMPTestTraits
import Testing

/// The built shell against a server that lies in what it describes: a schema that does not hold
/// together, text meant for the terminal, floods of faults. Docs/ROBUSTNESS.md ("Trusting the
/// server") lists the cases.
@Suite("qmp-shell does not trust the server", .timeLimit(.minutes(2)), .checksFakeServerScripts)
struct UntrustedServerTests {
    /// A fake QEMU that serves `schema`, then answers every command with its own arguments.
    static func echoServer(schema: JSONValue) throws -> FakeQMPServer {
        try FakeQMPServer { connection in
            try connection.handshake()
            try connection.serveSchema(schema)
            while let message = connection.readMessage(timeout: .seconds(20)) {
                connection.reply(to: message, with: message["arguments"] ?? [:])
            }
        }
    }

    /// A command `x` whose optional argument `a` is of type `1`, and the entries of `types`.
    static func schema(with types: String) throws -> JSONValue {
        try JSONParser.parse(
            #"[{"name": "x", "meta-type": "command", "arg-type": "0", "ret-type": "0"}, "#
                + #"{"name": "0", "meta-type": "object", "members": [{"name": "a", "type": "1", "default": null}]}, "#
                + #"{"name": "str", "meta-type": "builtin", "json-type": "string"}, "# + types + "]")
    }

    @Test(arguments: [
        #"{"name": "1", "meta-type": "array", "element-type": "1"}"#,
        #"{"name": "1", "meta-type": "alternate", "members": [{"type": "1"}, {"type": "str"}]}"#,
        #"{"name": "1", "meta-type": "object", "members": [{"name": "next", "type": "1"}]}"#,
    ])
    func aSchemaWithAnEndlessCycleIsRefusedWithOneWarningAndNotCached(types: String) throws {
        let server = try Self.echoServer(schema: try Self.schema(with: types))
        let cache = try TemporaryDirectory(prefix: "qmp-cache")
        let result = try ShellBinary.run(
            ["--keep-going", "-c", ".help x", "-c", "x a=[]", "-c", "x a=1", server.path],
            environment: ["XDG_CACHE_HOME": cache.path])
        #expect(!result.crashed, "crashed: \(result.standardError)")
        let diagnostics = result.standardError.split(separator: "\n")
        let warnings = diagnostics.filter { $0.contains("the server's schema cannot be used") }
        #expect(warnings.count == 1, "\(result.standardError)")
        #expect(warnings.first?.contains("arguments are sent unchecked") == true)
        // Without a schema, .help knows only directives; the lines go as typed.
        #expect(diagnostics.contains { $0.hasPrefix("-c:1: .help: no command") }, "\(result.standardError)")
        #expect(result.lines == [#"{"return":{"a":[]}}"#, #"{"return":{"a":1}}"#])
        let files = (try? FileManager.default.contentsOfDirectory(atPath: cache.file("qmp-shell"))) ?? []
        #expect(files.isEmpty, "never cached: \(files)")
    }
}
