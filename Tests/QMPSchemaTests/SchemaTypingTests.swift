import QMP
import QMPTestSupport
import QMPLineSyntax
import Testing
@testable import QMPSchema

/// The declared type decides how `key=value` is sent; what cannot fit is an error before sending.
@Suite(.timeLimit(.minutes(1))) struct SchemaTypingTests {
    @Test(arguments: [
        // str gets the text as typed, whatever it looks like.
        (
            "block-dirty-bitmap-add node=n0 name=7",
            #"{"execute":"block-dirty-bitmap-add","arguments":{"node":"n0","name":"7"}}"#
        ),
        (
            "block-dirty-bitmap-add node=true name=null",
            #"{"execute":"block-dirty-bitmap-add","arguments":{"node":"true","name":"null"}}"#
        ),
        // int: decimal or hexadecimal, quoted or not; bool in any case.
        (
            #"block-dirty-bitmap-add node=n0 name=b granularity=0x10000 persistent=TRUE disabled="false""#,
            #"{"execute":"block-dirty-bitmap-add","arguments":{"node":"n0","name":"b","granularity":65536,"persistent":true,"disabled":false}}"#
        ),
        // An enum value.
        (
            "screendump filename=/tmp/s.png format=png",
            #"{"execute":"screendump","arguments":{"filename":"/tmp/s.png","format":"png"}}"#
        ),
        // Alternates: the branch the text fits, else the string branch.
        (
            "blockdev-add driver=qcow2 node-name=q file=7 backing=null",
            #"{"execute":"blockdev-add","arguments":{"driver":"qcow2","node-name":"q","file":"7","backing":null}}"#
        ),
        (
            "blockdev-add driver=qcow2 node-name=q file.driver=file file.filename=/tmp/x.qcow2",
            #"{"execute":"blockdev-add","arguments":{"driver":"qcow2","node-name":"q","file":{"driver":"file","filename":"/tmp/x.qcow2"}}}"#
        ),
        // A union member typed before the tag that picks its variant.
        (
            "blockdev-add lazy-refcounts=True node-name=q file=f driver=qcow2",
            #"{"execute":"blockdev-add","arguments":{"lazy-refcounts":true,"node-name":"q","file":"f","driver":"qcow2"}}"#
        ),
        (
            "object-add qom-type=memory-backend-ram id=m0 size=1048576",
            #"{"execute":"object-add","arguments":{"qom-type":"memory-backend-ram","id":"m0","size":1048576}}"#
        ),
        // Lists and objects in brackets.
        (
            "object-add qom-type=memory-backend-ram id=m0 size=4096 host-nodes=[0]",
            #"{"execute":"object-add","arguments":{"qom-type":"memory-backend-ram","id":"m0","size":4096,"host-nodes":[0]}}"#
        ),
        // Transaction actions are typed by their data's type.
        (
            "transaction( block-dirty-bitmap-add node=n0 name=7 abort )",
            #"{"execute":"transaction","arguments":{"actions":[{"type":"block-dirty-bitmap-add","data":{"node":"n0","name":"7"}},{"type":"abort","data":{}}]}}"#
        ),
        // device_add takes its driver's properties, which the schema does not declare.
        (
            "device_add driver=virtio-blk-pci id=d0 drive=5",
            #"{"execute":"device_add","arguments":{"driver":"virtio-blk-pci","id":"d0","drive":5}}"#
        ),
        // Commands the schema does not know follow the syntax rules (QEMU will say it has none).
        ("no-such-command name=7", #"{"execute":"no-such-command","arguments":{"name":7}}"#),
    ])
    func valuesAreSentAsTheirDeclaredType(line: String, sent: String) async throws {
        let schema = try await InstalledSchema.schema()
        #expect(schemaOutcome(of: line, schema: schema) == sent)
    }

    @Test(arguments: [
        (
            "block-dirty-bitmap-add node=n0 name=b granularity=abc",
            "!column 51: 'granularity' expects an integer (int), got 'abc'"
        ),
        (
            "block-dirty-bitmap-add node=n0 name=b granularity=1.5",
            "!column 51: 'granularity' expects an integer (int), got '1.5'"
        ),
        (
            "block-dirty-bitmap-add node=n0 name=b persistent=yes",
            "!column 50: 'persistent' expects true or false (bool), got 'yes'"
        ),
        (
            "screendump filename=x format=pmg",
            "!column 30: 'format' expects one of ppm, png; got 'pmg' (did you mean 'png'?)"
        ),
        (
            "object-add qom-type=memory-backend-ram id=m0 size=64M",
            "!column 51: 'size' expects an integer (int), got '64M' (QMP takes a plain number of bytes: 64M is 67108864)"
        ),
        (
            "object-add qom-type=memory-backend-ram id=m0 size=1 host-nodes=0",
            "!column 64: 'host-nodes' expects a list [int] written [...], got '0'"
        ),
        // Unknown arguments, with the nearest name.
        ("query-status flag=abc", "!column 14: query-status takes no arguments, got 'flag'"),
        (
            "block-dirty-bitmap-add node=n0 nme=b",
            "!column 32: unknown argument 'nme' for block-dirty-bitmap-add (did you mean 'name'?)"
        ),
        (
            "block-dirty-bitmap-add node=n0 name=b gran=1",
            "!column 39: unknown argument 'gran' for block-dirty-bitmap-add (did you mean 'granularity'?)"
        ),
        (
            "block-dirty-bitmap-add node=n0 name=b zzz=1",
            "!column 39: unknown argument 'zzz' for block-dirty-bitmap-add"
        ),
        (
            "blockdev-add driver=qcow2 node-name=q file.driver=file file.filenme=x",
            "!column 56: unknown argument 'file.filenme' for blockdev-add (did you mean 'file.filename'?)"
        ),
        (
            "blockdev-add driver=qcow2 node-name=q lazy-refcount=on",
            "!column 39: unknown argument 'lazy-refcount' for blockdev-add (did you mean 'lazy-refcounts'?)"
        ),
        (
            "block-dirty-bitmap-add node.x=1 name=b",
            "!column 24: unknown argument 'node.x' for block-dirty-bitmap-add: 'node' has no members"
        ),
        ("transaction( abort x=1 )", "!column 20: transaction action 'abort' takes no arguments, got 'x'"),
        // Missing arguments, after the line has been read.
        ("block-dirty-bitmap-add node=n0", "!missing argument 'name' (str) for block-dirty-bitmap-add"),
        (
            "blockdev-add driver=file node-name=f",
            "!missing argument 'filename' (str) for blockdev-add with driver=file"
        ),
        (
            "blockdev-add driver=qcow2 node-name=q file.driver=file",
            "!missing argument 'file.filename' (str) for blockdev-add with file.driver=file"
        ),
        ("blockdev-add node-name=q", "!missing argument 'driver' (enum) for blockdev-add"),
        (
            "transaction( block-dirty-bitmap-add node=n0 )",
            "!missing argument 'name' (str) for transaction action 1 'block-dirty-bitmap-add'"
        ),
        (
            "transaction( block-dirty-bitmap-ad node=n0 )",
            "!unknown transaction action 'block-dirty-bitmap-ad' (did you mean 'block-dirty-bitmap-add'?)"
        ),
        // Values in brackets are checked inside too.
        (
            #"blockdev-create job-id=j options={"driver": "file", "filename": "/x", "size": "big"}"#,
            #"!'options.size' expects an integer (int), got "big""#
        ),
        (
            #"blockdev-create job-id=j options={"driver": "file", "filenam": "/x", "size": 1}"#,
            "!unknown argument 'options.filenam' for blockdev-create (did you mean 'options.filename'?)"
        ),
    ])
    func whatCannotFitIsAnErrorBeforeSending(line: String, error: String) async throws {
        let schema = try await InstalledSchema.schema()
        #expect(schemaOutcome(of: line, schema: schema) == error)
    }

    /// `--no-schema-check`: the declared type still types what fits; nothing is refused.
    @Test(arguments: [
        (
            "block-dirty-bitmap-add node=n0 name=7 granularity=abc",
            #"{"execute":"block-dirty-bitmap-add","arguments":{"node":"n0","name":"7","granularity":"abc"}}"#
        ),
        ("query-status flag=1", #"{"execute":"query-status","arguments":{"flag":1}}"#),
        ("screendump filename=x format=jpg", #"{"execute":"screendump","arguments":{"filename":"x","format":"jpg"}}"#),
        ("block-dirty-bitmap-add node=n0", #"{"execute":"block-dirty-bitmap-add","arguments":{"node":"n0"}}"#),
    ])
    func withoutChecksNothingIsRefused(line: String, sent: String) async throws {
        let schema = try await InstalledSchema.schema()
        #expect(schemaOutcome(of: line, schema: schema, checks: false) == sent)
    }

    @Test func deviceAddPropertiesAreTypedByTheirQOMTypeAndNeverRefused() async throws {
        let properties: [DeviceCatalog.Property] = [
            .init(name: "serial", type: "str"), .init(name: "num-queues", type: "uint16"),
            .init(name: "config-wce", type: "bool"), .init(name: "drive", type: "str"),
            .init(name: "addr", type: "int32"), .init(name: "ioeventfd", type: "bool"),
        ]
        let schema = try await InstalledSchema.schema()
        let line =
            "device_add driver=virtio-blk-pci serial=1234 num-queues=0x2 config-wce=off drive=7 addr=06.0 ioeventfd=TRUE x=5"
        #expect(
            schemaOutcome(of: line, schema: schema, deviceProperties: properties)
                == #"{"execute":"device_add","arguments":{"driver":"virtio-blk-pci","serial":"1234","num-queues":2,"config-wce":false,"drive":"7","addr":"06.0","ioeventfd":true,"x":5}}"#
        )
    }
}

extension SchemaTypingTests {
    /// `.add-fd PATH key=value ...` passes its arguments to add-fd, so they are typed by add-fd's.
    @Test func addFDArgumentsAreTypedAsAddFDs() async throws {
        let schema = try await InstalledSchema.schema()
        let text = "/dev/null opaque=7 fdset-id=0x1"
        let parsed = try LineParser.parseArguments(
            text, directive: "add-fd", valueTyping: SchemaValueTyping(schema: schema, checks: true, line: text))
        #expect(parsed.words == ["/dev/null"])
        #expect(JSONValue.object(parsed.arguments).serialized() == #"{"opaque":"7","fdset-id":1}"#)
        #expect(
            throws: LineParseError(column: 11, message: "unknown argument 'opaq' for .add-fd (did you mean 'opaque'?)")
        ) {
            try LineParser.parseArguments(
                "/dev/null opaq=x", directive: "add-fd",
                valueTyping: SchemaValueTyping(schema: schema, checks: true, line: "/dev/null opaq=x"))
        }
    }
}
