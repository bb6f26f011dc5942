import QMP
import QMPTestSupport
import QMPTestTraits
import Testing

/// The shell against the schemas of other QEMU versions (recorded by libvirt), replayed by a fake
/// server that greets as that version and answers each command with the arguments it received.
@Suite("Other QEMU versions", .timeLimit(.minutes(2)), .checksFakeServerScripts)
struct OtherQEMUVersionsTests {
    /// Runs `lines` with `--keep-going` against a fake QEMU `version` serving `schema`.
    func run(_ lines: [String], version: String, schema: JSONValue) throws -> ShellBinary.Result {
        let server = try FakeQMPServer { connection in
            try connection.handshake(version: version)
            try connection.serveSchema(schema)
            while let message = connection.readMessage(timeout: .seconds(20)) {
                connection.reply(to: message, with: message["arguments"] ?? [:])
            }
        }
        let cache = try TemporaryDirectory(prefix: "qmp-cache")
        return try ShellBinary.run(
            ["--keep-going"] + lines.flatMap { ["-c", $0] } + [server.path], environment: ["XDG_CACHE_HOME": cache.path]
        )
    }

    @Test(arguments: [
        (
            "4.2.0", "netdev_add type=user id=netdev1 dnssearch=example.org",
            #"{"return":{"type":"user","id":"netdev1","dnssearch":"example.org"}}"#
        ),
        (
            "5.2.0", "object-add qom-type=iothread id=io1 poll-max-ns=16",
            #"{"return":{"qom-type":"iothread","id":"io1","poll-max-ns":16}}"#
        ),
    ])
    func aCommandThatVersionLeavesOpenSendsItsExtraArgumentsAsTyped(version: String, line: String, sent: String) throws
    {
        let result = try run(
            [line, "block-dirty-bitmap-add node=n0 name=b granularit=1"], version: version,
            schema: RecordedSchema.introspection(version))
        #expect(result.lines == [sent])
        // The schema still checks the other commands.
        #expect(
            result.standardError.split(separator: "\n") == [
                "-c:2: column 39: unknown argument 'granularit' for block-dirty-bitmap-add (did you mean 'granularity'?)"
            ])
        #expect(result.status == 1)
    }

    @Test func anEntryOfAnUnknownMetaTypeIsSkippedAloneAndSaidOnce() throws {
        // QEMU 8.2's schema, with screendump's format enum turned into a meta-type from the future.
        var entries = try #require(RecordedSchema.introspection("8.2.0").arrayValue)
        let screendump = try #require(
            entries.first { $0["name"]?.stringValue == "screendump" }?["arg-type"]?.stringValue)
        let arguments = try #require(entries.first { $0["name"]?.stringValue == screendump })
        let format = try #require(
            arguments["members"]?.arrayValue?.first { $0["name"]?.stringValue == "format" }?["type"])
        let index = try #require(entries.firstIndex { $0["name"] == format })
        entries[index] = ["name": format, "meta-type": "quantum-type"]

        let result = try run(
            ["screendump filename=/tmp/s format=webp", "screendump filename=/tmp/s formt=png", "query-status"],
            version: "8.2.0", schema: .array(entries))
        #expect(result.lines == [#"{"return":{"filename":"/tmp/s","format":"webp"}}"#, "{\"return\":{}}"])
        #expect(
            result.standardError.split(separator: "\n") == [
                "qmp-shell: the schema has 1 entry of a meta-type this shell does not know ('quantum-type'); "
                    + "the arguments of screendump that use them are sent unchecked",
                "-c:2: column 28: unknown argument 'formt' for screendump (did you mean 'format'?)",
            ])
        #expect(result.status == 1)
    }

    @Test func aSchemaThatCannotBeUsedIsSaidOnceAndTheSyntaxRulesApply() throws {
        let broken: JSONValue = try JSONParser.parse(#"[{"name": "x", "meta-type": "command", "arg-type": "9"}]"#)
        let result = try run(["x name=7", "x name=8"], version: "8.2.0", schema: broken)
        #expect(result.lines == [#"{"return":{"name":7}}"#, #"{"return":{"name":8}}"#])
        #expect(
            result.standardError
                == "qmp-shell: the server's schema cannot be used (command x refers to a missing type '9'): arguments are sent unchecked\n"
        )
        #expect(result.status == 0)
    }
}
