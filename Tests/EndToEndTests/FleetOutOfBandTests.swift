import Foundation
import QMP
import QMPTestSupport
import Testing

/// A fleet asks its QEMUs for out-of-band execution only when its script may use it (enabling it
/// costs each QEMU CPU): `exec-oob` lines still run on every target, whether written out, spelled
/// with a JSON escape, or brought in by `.source`.
@Suite("Fleets: exec-oob in a fleet's script", .timeLimit(.minutes(2)))
struct FleetOutOfBandTests {
    @Test func execOOBLinesRunOnEveryTargetHoweverTheScriptBringsThem() throws {
        let qemus = try QEMUFleet(count: 2)
        let sockets = qemus.instances.map(\.socketPath)
        let directory = try TemporaryDirectory()
        let sourced = directory.file("oob.qmp")
        try #"{"exec-oob": "query-yank"}"#.write(toFile: sourced, atomically: true, encoding: .utf8)
        let scripts: [[String]] = [
            ["-c", #"{"exec-oob": "query-yank"}"#],
            ["-c", #"{"exec\u002doob": "query-yank"}"#],
            ["-c", "query-status", "-c", ".source \(sourced)"],
        ]
        for script in scripts {
            let result = try ShellBinary.run(script + sockets, timeout: .seconds(60))
            #expect(result.status == 0, "\(script): \(result.standardError)")
            let replies = try FleetTests.repliesByTarget(result)
            for socket in sockets {
                // query-yank lists the QEMU's monitors' chardevs: never empty here.
                #expect(
                    replies[socket]?.last?["return"]?.arrayValue?.isEmpty == false,
                    "\(script) on \(socket): \(replies[socket] ?? [])")
            }
        }
    }
}
