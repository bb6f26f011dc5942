import Foundation
import QMP
import QMPTestSupport
import Testing

/// Fleets of libvirt domains (`--domain 'web-*'`, several `--domain`, `--all-domains`) against real
/// transient domains of a private libvirtd: each reply tagged with its domain's name.
@Suite("Fleets of libvirt domains", .serialized, .timeLimit(.minutes(3)))
struct LibvirtFleetTests {
    /// The domains each reply is tagged with, and how many replies each has.
    static func replyCounts(_ result: ShellBinary.Result) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for line in result.lines {
            let reply = try FleetTests.TaggedReply(line)
            #expect(reply.object["return"] != nil, "\(line)")
            counts[reply.target, default: 0] += 1
        }
        return counts
    }

    @Test func aPatternSelectsTheMatchingRunningDomainsAndSeveralNamesEachTheirOwn() throws {
        let uri = try PrivateLibvirtd.uri()
        let web = try (1...3).map { try LibvirtTestDomain(name: "qmp-fleet-web-\($0)") }
        let other = try LibvirtTestDomain(name: "qmp-fleet-db-1")
        let byPattern = try ShellBinary.run(
            ["--domain", "qmp-fleet-web-*", "--connect", uri, "-c", "query-status", "-c", "query-name"],
            timeout: .seconds(60))
        #expect(byPattern.status == 0, "\(byPattern.standardError)")
        #expect(try Self.replyCounts(byPattern) == Dictionary(uniqueKeysWithValues: web.map { ($0.name, 2) }))
        #expect(byPattern.standardError.contains("qmp-shell: 3 targets: 3 succeeded, 0 failed, 0 unreachable\n"))
        // libvirt's taint note, once for the run.
        #expect(byPattern.standardError.components(separatedBy: "tainted (custom-monitor)").count == 2)

        // Names and patterns together; a name that is no running domain is unreachable, alone.
        let mixed = try ShellBinary.run(
            [
                "--domain", other.name, "--domain", "qmp-fleet-web-[12]", "--domain", "qmp-fleet-none",
                "--connect", uri, "-c", "query-status",
            ],
            timeout: .seconds(60))
        #expect(mixed.status == 3, "\(mixed.standardError)")
        #expect(try Self.replyCounts(mixed) == [other.name: 1, web[0].name: 1, web[1].name: 1])
        #expect(mixed.standardError.contains("qmp-fleet-none: no domain 'qmp-fleet-none'"), "\(mixed.standardError)")
        #expect(mixed.standardError.hasSuffix("qmp-shell: unreachable: qmp-fleet-none\n"))

        // A pattern that matches nothing is said, not taken for an empty success.
        let none = try ShellBinary.run(["--domain", "qmp-fleet-zzz-*", "--connect", uri, "-c", "query-status"])
        #expect(none.status == 3)
        #expect(none.standardError.contains("no running domain on \(uri) matches 'qmp-fleet-zzz-*'"))
        #expect(none.standardOutput.isEmpty)
    }

    @Test func allDomainsReachesEveryRunningDomainOfTheConnection() throws {
        // A daemon of this test's own: the suite's may run other tests' domains meanwhile.
        let libvirtd = try ExtraLibvirtd()
        let domains = try (1...3).map { try LibvirtTestDomain(name: "qmp-fleet-all-\($0)", uri: libvirtd.uri) }
        let result = try ShellBinary.run(
            ["--all-domains", "--connect", libvirtd.uri, "-c", "query-status"], timeout: .seconds(60))
        #expect(result.status == 0, "\(result.standardError)")
        #expect(try Self.replyCounts(result) == Dictionary(uniqueKeysWithValues: domains.map { ($0.name, 1) }))
        #expect(result.standardError.contains("qmp-shell: 3 targets: 3 succeeded, 0 failed, 0 unreachable\n"))
    }
}
