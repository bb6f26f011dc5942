import Foundation
import QMP
import QMPLibvirt
import QMPTestSupport
import Testing

/// A QMPClient over libvirt's passthrough, against a real domain of the private libvirtd: the
/// same calls as over a socket, with what libvirt cannot do answered in words.
@Suite("QMPClient over libvirt", .serialized, .timeLimit(.minutes(2)))
struct LibvirtTransportTests {
    func connectedClient(to name: String) async throws -> QMPClient {
        let connection = try await LibvirtConnection.open(try PrivateLibvirtd.uri())
        let domain = try await connection.domain(name)
        let client = QMPClient()
        try await client.connect { inbound in try await LibvirtTransport.open(domain, inbound: inbound) }
        return client
    }

    @Test func commandsRepliesAndEventsGoThroughLibvirt() async throws {
        let domain = try LibvirtTestDomain(name: "qmp-test-transport")
        let client = try await connectedClient(to: domain.name)
        // The greeting is made from query-version: the same version QEMU itself reports.
        let version = try await client.execute("query-version")
        let qemu = try #require(version["qemu"])
        #expect(
            client.greeting?.version
                == "\(qemu["major"]!.intValue!).\(qemu["minor"]!.intValue!).\(qemu["micro"]!.intValue!)")
        #expect(try await client.execute("query-status")["status"] == "running")
        // libvirt refuses ids: the caller's own comes back on the reply all the same.
        let reply = try await client.send(["execute": "query-status", "id": "mine"])
        #expect(reply["id"] == "mine")
        #expect(reply["return"]?["status"] == "running")
        await #expect(
            throws: QMPError.commandFailed(
                errorClass: "CommandNotFound", description: "The command no-such-command has not been found")
        ) {
            try await client.execute("no-such-command")
        }
        await #expect(
            throws: QMPError.commandFailed(errorClass: "GenericError", description: LibvirtTransport.outOfBandRefusal)
        ) {
            try await client.execute("query-status", oob: true)
        }
        // QEMU's events, from libvirt's callback, in the client's listeners.
        let events = client.events
        try await client.execute("stop")
        let stop = try await within(.seconds(20), "STOP through libvirt") {
            for await event in events where event.name == "STOP" { return event }
            throw FakeServerError("the events ended")
        }
        #expect((stop.timestamp?.seconds ?? 0) > 1_700_000_000, "QEMU's own timestamp")
        try await client.execute("cont")
        await client.disconnect()
        #expect(client.disconnectCause == nil)
    }

    @Test func theDomainStoppingEndsTheSessionWithThatCause() async throws {
        let domain = try LibvirtTestDomain(name: "qmp-test-transport-end")
        let client = try await connectedClient(to: domain.name)
        _ = try await client.execute("query-status")
        try PrivateLibvirtd.virsh(["destroy", domain.name])
        let cause = try await within(.seconds(20), "the end of the session") { await client.waitUntilDisconnected() }
        #expect(cause == .disconnected("domain '\(domain.name)' stopped"))
        await #expect(throws: QMPError.self) { try await client.execute("query-status") }
    }

    @Test func descriptorsTravelWithTheNextCommand() async throws {
        let domain = try LibvirtTestDomain(name: "qmp-test-transport-fds")
        let client = try await connectedClient(to: domain.name)
        let fd = open("/dev/null", O_RDWR)
        defer { close(fd) }
        let added = try await client.execute("add-fd", arguments: ["opaque": "through-libvirt"], passing: [fd])
        let fdset = try #require(added["fdset-id"]?.intValue, "\(added)")
        let sets = try await client.execute("query-fdsets")
        #expect(sets.arrayValue?.contains { $0["fdset-id"]?.intValue == fdset } == true, "\(sets)")
        await client.disconnect()
    }
}
