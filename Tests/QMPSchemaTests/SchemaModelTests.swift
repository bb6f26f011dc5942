import QMP
import QMPTestSupport
import QMPLineSyntax
import Testing
@testable import QMPSchema

/// The schema model, read from the installed QEMU's `query-qmp-schema`.
@Suite(.timeLimit(.minutes(1))) struct SchemaModelTests {
    @Test func readsCommandsEventsAndTheTypesTheyReferTo() async throws {
        let schema = try await InstalledSchema.schema()
        #expect(schema.commands.count > 150)
        #expect(schema.events.count > 30)
        #expect(schema.commandNames == schema.commands.keys.sorted())
        #expect(schema.commandNames.contains("query-status"))
        #expect(schema.eventNames.contains("BLOCK_JOB_COMPLETED"))
        // Every integer type is introspected as int, so there is no size type to see.
        #expect(schema.type(named: "int").map { if case .builtin(.int) = $0.kind { true } else { false } } == true)
        #expect(schema.type(named: "size") == nil)
    }

    @Test func anObjectHasRequiredAndOptionalMembersOfTheirTypes() async throws {
        let schema = try await InstalledSchema.schema()
        let screendump = try #require(schema.commands["screendump"])
        let members = try #require(schema.objectType(named: screendump.argumentType)?.members)
        let filename = try #require(members.first { $0.name == "filename" })
        #expect(filename.typeName == "str" && !filename.isOptional)
        let format = try #require(members.first { $0.name == "format" })
        #expect(format.isOptional)
        guard case .enumeration(let values)? = schema.type(named: format.typeName)?.kind else {
            Issue.record("format is not an enum")
            return
        }
        #expect(values == ["ppm", "png"])
        #expect(schema.describe(format.typeName) == "ppm|png")
    }

    /// A union's members are its own plus those of the variant its tag's value picks.
    @Test(
        arguments: [
            ("blockdev-add", [["driver"]: "qcow2"], "lazy-refcounts", "bool"),
            ("blockdev-add", [["driver"]: "file"], "filename", "str"),
            ("object-add", [["qom-type"]: "memory-backend-ram"], "size", "int"),
            ("netdev_add", [["type"]: "user"], "hostfwd", "[object]"),
        ] as [(String, TypedValues, String, String)])
    func aUnionVariantIsPickedByTheTagValue(command: String, typed: TypedValues, member: String, type: String)
        async throws
    {
        let schema = try await InstalledSchema.schema()
        let root = try #require(schema.commands[command]?.argumentType)
        let set = try #require(schema.memberSet(of: root, at: [], typed: typed))
        #expect(set.undecidedTag == nil)
        let found = try #require(set.member(named: member))
        #expect(schema.describe(found.typeName, enumLimit: 0) == type)
        // Without the tag, the member is only among the undecided variants' members.
        let undecided = try #require(schema.memberSet(of: root, at: [], typed: [:]))
        #expect(undecided.undecidedTag != nil)
        #expect(undecided.member(named: member) == nil)
        #expect(undecided.variantMembers.contains { $0.name == member })
    }

    @Test func keyPathsGoThroughNestedObjectsAndAlternateObjectBranches() async throws {
        let schema = try await InstalledSchema.schema()
        let root = try #require(schema.commands["blockdev-add"]?.argumentType)
        let typed: TypedValues = [["driver"]: "qcow2", ["file", "driver"]: "file"]
        // `file` is an alternate: a node name (str) or a nested blockdev (object).
        guard case .member(let file) = schema.lookUp(["file"], in: root, typed: typed) else {
            Issue.record("no file member")
            return
        }
        #expect(schema.describe(file.typeName) == "object|str")
        guard case .member(let filename) = schema.lookUp(["file", "filename"], in: root, typed: typed) else {
            Issue.record("file.filename not found with file.driver=file")
            return
        }
        #expect(filename.typeName == "str")
        guard case .unknown(let index, let candidates) = schema.lookUp(["file", "filenam"], in: root, typed: typed)
        else {
            Issue.record("a misspelt nested key is not unknown")
            return
        }
        #expect(index == 1)
        #expect(candidates.contains("filename"))
        // A member only some variants have, while the tag has no value: known when they agree.
        guard case .member(let lazy) = schema.lookUp(["lazy-refcounts"], in: root, typed: [:]) else {
            Issue.record("lazy-refcounts not found before the driver")
            return
        }
        #expect(lazy.typeName == "bool")
    }

    @Test func transactionActionsWrapTheirArgumentsInData() async throws {
        let schema = try await InstalledSchema.schema()
        #expect(schema.transactionActionNames.contains("block-dirty-bitmap-add"))
        #expect(schema.transactionActionNames.contains("abort"))
        let data = try #require(schema.transactionActionType("block-dirty-bitmap-add"))
        #expect(schema.objectType(named: data)?.members.map(\.name).starts(with: ["node", "name"]) == true)
        #expect(schema.transactionActionType("no-such-action") == nil)
    }

    @Test func eventsHaveTheTypeOfTheirData() async throws {
        let schema = try await InstalledSchema.schema()
        let event = try #require(schema.events["BLOCK_JOB_COMPLETED"])
        let members = try #require(schema.objectType(named: event.argumentType)?.members)
        #expect(members.contains { $0.name == "device" && $0.typeName == "str" && !$0.isOptional })
        #expect(members.contains { $0.name == "error" && $0.isOptional })
        let stop = try #require(schema.events["STOP"])
        #expect(schema.objectType(named: stop.argumentType)?.members.isEmpty == true)
    }

    @Test(arguments: [
        (#"{"a": 1}"#, "the schema is not a JSON array"),
        (#"[{"meta-type": "command"}]"#, "a schema entry has no name or meta-type"),
        (#"[{"name": "x", "meta-type": "command", "arg-type": "9"}]"#, "command x refers to a missing type '9'"),
        (
            #"[{"name": "1", "meta-type": "object", "members": [{"name": "m", "type": "2"}]}]"#,
            "object 1 refers to a missing type '2'"
        ),
        (#"[{"name": "1", "meta-type": "enum"}]"#, "enum 1 has no values"),
    ])
    func aSchemaThatCannotBeReadSaysWhy(text: String, message: String) throws {
        #expect(throws: SchemaError(message)) { try QMPSchema(introspection: try JSONParser.parse(text)) }
    }

    /// A command `x` whose optional argument `a` is of type `1`, and the type entries given.
    static func schema(with types: String) -> String {
        #"[{"name": "x", "meta-type": "command", "arg-type": "0"}, "#
            + #"{"name": "0", "meta-type": "object", "members": [{"name": "a", "type": "1", "default": null}]}, "#
            + #"{"name": "str", "meta-type": "builtin", "json-type": "string"}, "# + types + "]"
    }

    @Test(arguments: [
        (
            #"{"name": "1", "meta-type": "array", "element-type": "1"}"#,
            "type '1' is made of itself (through arrays and alternates alone)"
        ),
        (
            #"{"name": "1", "meta-type": "alternate", "members": [{"type": "str"}, {"type": "1"}]}"#,
            "type '1' is made of itself (through arrays and alternates alone)"
        ),
        (
            #"{"name": "1", "meta-type": "array", "element-type": "2"}, {"name": "2", "meta-type": "alternate", "members": [{"type": "1"}, {"type": "str"}]}"#,
            "type '1' is made of itself (through arrays and alternates alone)"
        ),
        (
            #"{"name": "1", "meta-type": "object", "members": [{"name": "next", "type": "1"}]}"#,
            "object 1 has no finite value: its required members lead back to it without end"
        ),
        (
            #"{"name": "1", "meta-type": "object", "members": [{"name": "b", "type": "2"}]}, {"name": "2", "meta-type": "alternate", "members": [{"type": "1"}]}"#,
            "object 1 has no finite value: its required members lead back to it without end"
        ),
        (#"{"name": "1", "meta-type": "array", "element-type": "404"}"#, "array 1 refers to a missing type '404'"),
    ])
    func aSchemaThatDoesNotHoldTogetherIsRefused(types: String, message: String) throws {
        #expect(throws: SchemaError(message)) {
            try QMPSchema(introspection: try JSONParser.parse(Self.schema(with: types)))
        }
    }

    /// Recursion as QEMU's schemas have it: through an optional member, an array, or an
    /// alternate with another way out. Accepted, and every walk ends.
    @Test(arguments: [
        #"{"name": "1", "meta-type": "object", "members": [{"name": "next", "type": "1", "default": null}]}"#,
        #"{"name": "1", "meta-type": "object", "members": [{"name": "children", "type": "2"}]}, {"name": "2", "meta-type": "array", "element-type": "1"}"#,
        #"{"name": "1", "meta-type": "object", "members": [{"name": "file", "type": "2"}]}, {"name": "2", "meta-type": "alternate", "members": [{"type": "1"}, {"type": "str"}]}"#,
    ])
    func recursionWithAWayOutIsAcceptedAndWalksEnd(types: String) throws {
        let schema = try QMPSchema(introspection: try JSONParser.parse(Self.schema(with: types)))
        let help = try #require(SchemaHelp(schema: schema).text(for: "x"))
        #expect(help.hasPrefix("x (command)"))
        #expect(!schema.describe("1").isEmpty)
        var parser = LineParser(valueTyping: SchemaValueTyping(schema: schema, checks: true, line: "x a={}"))
        #expect(throws: Never.self) { try parser.parse("x a={}") }
        _ = SchemaValidator(schema: schema).problem(command: "x", arguments: ["a": ["next": [:], "children": []]])
    }

    @Test func unknownFieldsAreIgnoredAndAnUnreferencedUnknownMetaTypeIsSaidOnce() throws {
        let text = #"""
            [{"name": "0", "meta-type": "object", "members": [], "future": 1},
             {"name": "x", "meta-type": "command", "arg-type": "0", "ret-type": "0"},
             {"name": "7", "meta-type": "quantum-type", "values": []}]
            """#
        let schema = try QMPSchema(introspection: try JSONParser.parse(text))
        #expect(schema.commandNames == ["x"])
        #expect(
            schema.skipped
                == "the schema has 1 entry of a meta-type this shell does not know ('quantum-type'); nothing refers to them"
        )
    }

    /// A type of an unknown meta-type takes any value, unchecked; the rest of the schema still
    /// types and checks the line.
    @Test(arguments: [
        ("x a=anything b=0x10", #"{"execute":"x","arguments":{"a":"anything","b":16}}"#),
        ("x a=[1] b=2", #"{"execute":"x","arguments":{"a":[1],"b":2}}"#),
        ("x a=1 b=two", "!column 9: 'b' expects an integer (int), got 'two'"),
        ("x a=1 b=2 c=3", "!column 11: unknown argument 'c' for x"),
    ])
    func whatRefersToAnUnknownMetaTypeIsSentUnchecked(line: String, expected: String) throws {
        let text = #"""
            [{"name": "int", "meta-type": "builtin", "json-type": "int"},
             {"name": "0", "meta-type": "object", "members": [{"name": "a", "type": "7"}, {"name": "b", "type": "int"}]},
             {"name": "x", "meta-type": "command", "arg-type": "0", "ret-type": "0"},
             {"name": "y", "meta-type": "command", "arg-type": "1", "ret-type": "0"},
             {"name": "1", "meta-type": "object", "members": []},
             {"name": "7", "meta-type": "quantum-type", "values": []}]
            """#
        let schema = try QMPSchema(introspection: try JSONParser.parse(text))
        #expect(
            schema.skipped
                == "the schema has 1 entry of a meta-type this shell does not know ('quantum-type'); "
                + "the arguments of x that use them are sent unchecked")
        #expect(schemaOutcome(of: line, schema: schema) == expected)
    }
}
