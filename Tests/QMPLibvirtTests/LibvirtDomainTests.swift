import Foundation
import QMP
import QMPLibvirt
import QMPTestSupport
import Testing

/// The libvirt layer against a real, private libvirtd and real QEMU domains.
@Suite("libvirt passthrough against a private libvirtd", .serialized, .timeLimit(.minutes(2)))
struct LibvirtDomainTests {
    @Test func theQEMUPassthroughRunsACommandAndRepliesWithLibvirtsId() async throws {
        let domain = try LibvirtTestDomain(name: "qmp-test-passthrough")
        let connection = try await LibvirtConnection.open(try PrivateLibvirtd.uri())
        let found = try await connection.domain(domain.name)
        let reply = try JSONParser.parse(try await found.monitorCommand(#"{"execute": "query-status"}"#))
        #expect(reply["return"]?["status"] == "running")
        #expect(reply["id"]?.stringValue?.hasPrefix("libvirt-") == true, "\(reply)")
        let error = try JSONParser.parse(try await found.monitorCommand(#"{"execute": "no-such-command"}"#))
        #expect(error["error"]?["class"] == "CommandNotFound", "a QMP error is a reply, not a failed call")
    }

    @Test func aDomainIsFoundByNameUUIDOrId() async throws {
        let domain = try LibvirtTestDomain(name: "qmp-test-lookup")
        let connection = try await LibvirtConnection.open(try PrivateLibvirtd.uri())
        for key in [domain.name, try domain.uuid(), try domain.id()] {
            #expect(try await connection.domain(key).name == domain.name, "looked up by \(key)")
        }
        #expect(try await connection.runningDomainNames().contains(domain.name))
    }

    @Test func monitorEventsArriveWithQEMUsNameTimestampAndData() async throws {
        let domain = try LibvirtTestDomain(name: "qmp-test-events")
        let connection = try await LibvirtConnection.open(try PrivateLibvirtd.uri())
        let found = try await connection.domain(domain.name)
        let (events, continuation) = AsyncStream.makeStream(of: LibvirtMonitorEvent.self)
        let registration = try await found.monitorEvents { continuation.yield($0) }
        defer { registration.cancel() }
        try PrivateLibvirtd.virsh(["suspend", domain.name])
        let stop = try await within(.seconds(10), "STOP from libvirt") {
            for await event in events where event.name == "STOP" { return event }
            throw FakeServerError("the event stream ended")
        }
        #expect(stop.seconds > 1_700_000_000, "QEMU's own timestamp")
        try PrivateLibvirtd.virsh(["resume", domain.name])
        let resume = try await within(.seconds(10), "RESUME from libvirt") {
            for await event in events where event.name == "RESUME" { return event }
            throw FakeServerError("the event stream ended")
        }
        #expect(resume.seconds >= stop.seconds)
    }

    @Test func filesPassToADomainOfALocalDaemon() async throws {
        let domain = try LibvirtTestDomain(name: "qmp-test-fds")
        let connection = try await LibvirtConnection.open(try PrivateLibvirtd.uri())
        let found = try await connection.domain(domain.name)
        let fd = open("/dev/null", O_RDWR)
        defer { close(fd) }
        let added = try JSONParser.parse(
            try await found.monitorCommand(
                #"{"execute": "add-fd", "arguments": {"opaque": "qmp-test"}}"#, passing: [fd]))
        let fdset = try #require(added["return"]?["fdset-id"]?.intValue, "\(added)")
        let sets = try JSONParser.parse(try await found.monitorCommand(#"{"execute": "query-fdsets"}"#))
        #expect(sets["return"]?.arrayValue?.contains { $0["fdset-id"]?.intValue == fdset } == true, "\(sets)")
    }

    @Test func libvirtRefusesACommandThatCarriesItsOwnId() async throws {
        // What the transport must handle: libvirt adds its own id and refuses a second one.
        let domain = try LibvirtTestDomain(name: "qmp-test-id")
        let connection = try await LibvirtConnection.open(try PrivateLibvirtd.uri())
        let found = try await connection.domain(domain.name)
        await #expect(throws: QMPError.self) {
            try await found.monitorCommand(#"{"execute": "query-status", "id": 7}"#)
        }
        let reply = try JSONParser.parse(try await found.monitorCommand(#"{"execute": "query-status"}"#))
        #expect(reply["return"] != nil, "the domain is still usable")
    }

    @Test(arguments: ["no such domain", "not running", "no daemon"])
    func errorsNameWhatIsWrong(_ kind: String) async throws {
        let uri = try PrivateLibvirtd.uri()
        switch kind {
        case "no such domain":
            let connection = try await LibvirtConnection.open(uri)
            await #expect(throws: QMPError.couldNotConnect("no domain 'qmp-test-missing' on \(uri)")) {
                try await connection.domain("qmp-test-missing")
            }
        case "not running":
            let connection = try await LibvirtConnection.open(uri)
            let defined = try LibvirtTestDomain(name: "qmp-test-defined", running: false)
            defer { withExtendedLifetime(defined) {} }
            await #expect(throws: QMPError.couldNotConnect("domain 'qmp-test-defined' on \(uri) is not running")) {
                try await connection.domain("qmp-test-defined")
            }
        default:
            let missing = "qemu:///system?socket=/nonexistent/libvirt-sock"
            do {
                _ = try await LibvirtConnection.open(missing)
                Issue.record("connected to a daemon that does not exist")
            } catch {
                #expect(error.description.hasPrefix("could not connect to libvirt at \(missing): "), "\(error)")
                #expect(!error.description.contains("\n"), "one line")
            }
        }
    }
}
