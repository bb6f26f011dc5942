import Foundation
import QMP
import QMPTestSupport
import QMPTestTraits
import Synchronization
import Testing

/// Several targets in one run (`qmp-shell -c LINE SOCK1 SOCK2 ...`) against real QEMUs: every line
/// on every target, each reply tagged with its target, the summary and exit status naming the
/// targets that failed or could not be reached, and a target that hangs never holding up the rest.
@Suite("Fleets: one script on many targets", .timeLimit(.minutes(3)), .checksFakeServerScripts)
struct FleetTests {
    /// One reply line of a fleet run on a pipe: the target's name and the rest of the object.
    struct TaggedReply {
        let target: String
        let object: JSONObject

        init(_ line: String) throws {
            guard case .object(let object) = try JSONParser.parse(line), let target = object["target"]?.stringValue
            else { throw FakeServerError("not a tagged reply: \(line)") }
            #expect(object.keys.first == "target", "the tag comes first: \(line)")
            self.target = target
            self.object = object
        }
    }

    /// The replies of a run, per target, in the order each target printed them.
    static func repliesByTarget(_ result: ShellBinary.Result) throws -> [String: [JSONObject]] {
        var replies: [String: [JSONObject]] = [:]
        for line in result.lines {
            let reply = try TaggedReply(line)
            replies[reply.target, default: []].append(reply.object)
        }
        return replies
    }

    @Test func twentyQEMUsAnswerEveryLineTaggedWithTheirSocketAndTheExitStatusNamesWhatWentWrong() async throws {
        let qemus = try QEMUFleet(count: 20)
        let sockets = qemus.instances.map(\.socketPath)

        // All answer: two replies each, in line order on each target; standard output carries
        // only tagged replies.
        for parallel in ["32", "3"] {
            let result = try ShellBinary.run(
                ["--parallel", parallel, "-c", "query-status", "-c", "query-name"] + sockets, timeout: .seconds(60))
            #expect(result.status == 0, "\(result.standardError)")
            let replies = try Self.repliesByTarget(result)
            #expect(Set(replies.keys) == Set(sockets))
            for socket in sockets {
                #expect(replies[socket]?.count == 2, "\(socket): \(replies[socket] ?? [])")
                #expect(replies[socket]?.first?["return"]?["status"] == "running")
                #expect(replies[socket]?.last?["return"] == [:])
            }
            #expect(result.standardError == "qmp-shell: 20 targets: 20 succeeded, 0 failed, 0 unreachable\n")
        }

        // One target already has the object the script adds: its line fails, its script stops
        // there, the others run on; exit 1, the failed target named.
        let failing = qemus.instances[7]
        try await failing.controlExecute("object-add", arguments: ["qom-type": "secret", "id": "s0", "data": "x"])
        let addAndQuery = ["-c", "object-add qom-type=secret id=s0 data=y", "-c", "query-name"]
        let failed = try ShellBinary.run(addAndQuery + sockets, timeout: .seconds(60))
        #expect(failed.status == 1, "\(failed.standardError)")
        let afterFailure = try Self.repliesByTarget(failed)
        #expect(afterFailure[failing.socketPath]?.count == 1, "the line after the failure did not run there")
        #expect(afterFailure[failing.socketPath]?.first?["error"]?["class"] == "GenericError")
        #expect(sockets.filter { $0 != failing.socketPath }.allSatisfy { afterFailure[$0]?.count == 2 })
        #expect(failed.standardError.contains("\(failing.socketPath): -c:1: GenericError: "), "\(failed.standardError)")
        #expect(failed.standardError.contains("qmp-shell: 20 targets: 19 succeeded, 1 failed, 0 unreachable\n"))
        #expect(failed.standardError.hasSuffix("qmp-shell: failed: \(failing.socketPath)\n"))

        // --keep-going: the failing target runs its next line too (the others have s0 by now).
        let keptGoing = try ShellBinary.run(["--keep-going"] + addAndQuery + [failing.socketPath, sockets[0]])
        #expect(keptGoing.status == 1)
        #expect(try Self.repliesByTarget(keptGoing).values.map(\.count) == [2, 2])

        // A socket nobody listens on: the others answer, exit 3, the dead one named.
        let directory = try TemporaryDirectory()
        let dead = directory.file("dead.sock")
        let unreachable = try ShellBinary.run(["-c", "query-status"] + sockets + [dead], timeout: .seconds(60))
        #expect(unreachable.status == 3, "\(unreachable.standardError)")
        let reached = try Self.repliesByTarget(unreachable)
        #expect(Set(reached.keys) == Set(sockets))
        #expect(unreachable.standardError.contains("\(dead): could not connect to \(dead)"))
        #expect(unreachable.standardError.contains("qmp-shell: 21 targets: 20 succeeded, 0 failed, 1 unreachable\n"))
        #expect(unreachable.standardError.hasSuffix("qmp-shell: unreachable: \(dead)\n"))

        // Both at once: the unreachable target decides the status.
        let both = try ShellBinary.run(addAndQuery + [failing.socketPath, dead])
        #expect(both.status == 3, "\(both.standardError)")
        #expect(both.standardError.contains("qmp-shell: failed: \(failing.socketPath)\n"))
        #expect(both.standardError.contains("qmp-shell: unreachable: \(dead)\n"))
    }

    @Test func aTargetThatNeverAnswersIsReportedAtTheTimeoutWithTheOthersRepliesIntact() throws {
        let qemus = try QEMUFleet(count: 2)
        // Greets, negotiates, then never answers a command.
        let mute = try FakeQMPServer { connection in
            try connection.handshake()
            _ = connection.readMessage()
            connection.waitForClose(timeout: .seconds(60))
        }
        // Accepts the connection and never says a word.
        let silent = try FakeQMPServer { connection in connection.waitForClose(timeout: .seconds(60)) }
        let started = ContinuousClock.now
        let result = try ShellBinary.run(
            [
                "--timeout", "2", "-c", "query-status", qemus.instances[0].socketPath, mute.path, silent.path,
                qemus.instances[1].socketPath,
            ])
        let took = ContinuousClock.now - started
        #expect(result.status == 3, "\(result.standardError)")
        #expect(took < .seconds(15), "the run ended at the timeout, not at the fakes' leisure: \(took)")
        let replies = try Self.repliesByTarget(result)
        #expect(Set(replies.keys) == Set(qemus.instances.map(\.socketPath)))
        #expect(
            result.standardError.contains("\(mute.path): no answer within 2 s (--timeout)"), "\(result.standardError)")
        #expect(result.standardError.contains("\(silent.path): no answer within 2 s (--timeout)"))
        #expect(result.standardError.contains("qmp-shell: 4 targets: 2 succeeded, 1 failed, 1 unreachable\n"))
        #expect(result.standardError.contains("qmp-shell: failed: \(mute.path)\n"))
        #expect(result.standardError.contains("qmp-shell: unreachable: \(silent.path)\n"))
    }

    @Test func ctrlCReportsTheTargetsStillAtWorkAndKeepsTheOthersResults() throws {
        let qemu = try QEMUInstance()
        let mute = try FakeQMPServer { connection in
            try connection.handshake()
            _ = connection.readMessage()
            connection.waitForClose(timeout: .seconds(60))
        }
        let shell = try RunningShell(["-c", "query-status", qemu.socketPath, mute.path])
        try shell.waitUntil("the QEMU's reply") { $0.standardOutput.contains(qemu.socketPath) }
        // Ctrl-C once the QEMU's run has ended (a target at work when it comes is stopped too).
        usleep(300_000)
        kill(shell.pid, SIGINT)
        #expect(try shell.waitForExit() == 1, "\(shell.standardError)")
        #expect(shell.standardError.contains("\(mute.path): interrupted"), "\(shell.standardError)")
        #expect(shell.standardError.contains("qmp-shell: 2 targets: 1 succeeded, 1 failed, 0 unreachable\n"))
        #expect(
            try TaggedReply(shell.standardOutput.split(separator: "\n").first.map(String.init) ?? "").target
                == qemu.socketPath)
    }

    @Test func onATerminalRepliesAreGroupedUnderEachTargetsName() throws {
        let qemus = try QEMUFleet(count: 3)
        let sockets = qemus.instances.map(\.socketPath)
        let terminal = try PseudoTerminalSession(
            executable: ShellBinary.path, arguments: ["-c", "query-status", "-c", "query-name"] + sockets,
            environment: ["NO_COLOR": "1"], columns: 200, rows: 40)
        #expect(try terminal.waitForExit() == 0, "\(terminal.transcript)")
        let lines = terminal.transcript.split(separator: "\r\n").map(String.init)
        for socket in sockets {
            let header = try #require(lines.firstIndex(of: "== \(socket) =="), "\(terminal.transcript)")
            #expect(lines[header + 1].hasPrefix(#"{"return":{"status":"running""#))
            #expect(lines[header + 2] == #"{"return":{}}"#)
        }
        #expect(lines.contains("qmp-shell: 3 targets: 3 succeeded, 0 failed, 0 unreachable"))
    }
}

/// Several throwaway QEMUs, stopped when this is released.
final class QEMUFleet: Sendable {
    let instances: [QEMUInstance]

    /// Starts them one after the other: about 0.1 s each (Foundation's Process is not to be
    /// started from several threads at once).
    init(count: Int) throws {
        instances = try (0..<count).map { _ in try QEMUInstance() }
    }
}
