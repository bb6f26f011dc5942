import QMP
import QMPLineSyntax
import QMPTestSupport
import Testing
@testable import QMPSchema

/// The schemas of the QEMU versions distributions ship (recorded by libvirt) and of the installed
/// QEMU: each is modelled whole, and the commands each version leaves open take extra arguments.
@Suite(.timeLimit(.minutes(2)))
struct SchemaVersionsTests {
    func recorded(_ version: String) throws -> QMPSchema {
        let parts = version.split(separator: ".").compactMap { Int($0) }
        return try QMPSchema(
            introspection: try RecordedSchema.introspection(version),
            version: QEMUVersion(major: parts[0], minor: parts[1]))
    }

    @Test(arguments: RecordedSchema.versions)
    func aRecordedSchemaIsModelledWhole(version: String) throws {
        let introspection = try RecordedSchema.introspection(version)
        let schema = try recorded(version)
        let commands = introspection.arrayValue?.filter { $0["meta-type"]?.stringValue == "command" }.count
        #expect(schema.commandNames.count == commands)
        #expect(schema.skipped == nil)
        #expect(
            schemaOutcome(of: "block-dirty-bitmap-add node=n0 name=7 granularity=0x10000", schema: schema)
                == #"{"execute":"block-dirty-bitmap-add","arguments":{"node":"n0","name":"7","granularity":65536}}"#)
    }

    @Test func theInstalledSchemaIsModelledWhole() async throws {
        #expect(try await InstalledSchema.schema().skipped == nil)
    }

    static let netdev = "netdev_add type=user id=netdev1 dnssearch=example.org"
    static let iothread = "object-add qom-type=iothread id=io1 poll-max-ns=16"
    static let device = "device_add driver=e1000 id=net1 mac=52:54:00:12:34:56"

    @Test(arguments: [
        // QEMU 4.2's netdev_add takes the backend's options as they come (the form its docs show).
        (
            "4.2.0", netdev,
            #"{"execute":"netdev_add","arguments":{"type":"user","id":"netdev1","dnssearch":"example.org"}}"#
        ),
        // From 5.0 they are declared: dnssearch is a list of {"str": ...}.
        ("5.2.0", netdev, "!column 43: 'dnssearch' expects a list [object] written [...], got 'example.org'"),
        (
            "8.2.0", "netdev_add type=user id=n1 dns-search=x",
            "!column 28: unknown argument 'dns-search' for netdev_add (did you mean 'dnssearch'?)"
        ),
        // QEMU 5.0-5.2's object-add takes the object's properties at the top level.
        (
            "5.2.0", iothread,
            #"{"execute":"object-add","arguments":{"qom-type":"iothread","id":"io1","poll-max-ns":16}}"#
        ),
        // 4.2 wants them in props; 6.0 on declares them, typed by the object's type.
        ("4.2.0", iothread, "!column 37: unknown argument 'poll-max-ns' for object-add"),
        (
            "4.2.0", "object-add qom-type=iothread id=io1 props={'poll-max-ns': 16}",
            #"{"execute":"object-add","arguments":{"qom-type":"iothread","id":"io1","props":{"poll-max-ns":16}}}"#
        ),
        (
            "6.2.0", iothread,
            #"{"execute":"object-add","arguments":{"qom-type":"iothread","id":"io1","poll-max-ns":16}}"#
        ),
        (
            "8.2.0", "object-add qom-type=iothread id=io1 poll-max=16",
            "!column 37: unknown argument 'poll-max' for object-add (did you mean 'poll-max-ns'?)"
        ),
        // device_add is open in every version.
        (
            "4.2.0", device,
            #"{"execute":"device_add","arguments":{"driver":"e1000","id":"net1","mac":"52:54:00:12:34:56"}}"#
        ),
        (
            "8.2.0", device,
            #"{"execute":"device_add","arguments":{"driver":"e1000","id":"net1","mac":"52:54:00:12:34:56"}}"#
        ),
    ])
    func openCommandsTakeTheirExtraArgumentsAsTyped(version: String, line: String, expected: String) throws {
        let outcome = schemaOutcome(of: line, schema: try recorded(version))
        #expect(outcome == expected, "\(outcome)")
    }

    @Test(arguments: [
        ("2.12", ["device_add", "netdev_add"]),
        ("4.2", ["device_add", "netdev_add"]),
        ("5.0", ["device_add", "object-add"]),
        ("5.2", ["device_add", "object-add"]),
        ("6.0", ["device_add"]),
        ("10.1", ["device_add"]),
    ])
    func whichCommandsAreOpenDependsOnTheVersion(version: String, open: [String]) {
        let parts = version.split(separator: ".").compactMap { Int($0) }
        #expect(OpenArguments.commands(in: QEMUVersion(major: parts[0], minor: parts[1])) == Set(open))
    }
}
