import Foundation
import QMP
import QMPTestSupport
import QMPTestTraits
import Testing

/// `--watch` on several targets: events of real QEMUs merged, each tagged with its target; a
/// flooding or silent target never delays, drops or holds up the others' events; a target that
/// goes away is said inline and, with `--reconnect`, followed.
@Suite("Fleets: watching many targets", .timeLimit(.minutes(2)), .checksFakeServerScripts)
struct FleetWatchTests {
    /// The events printed so far, as (target, event name, data) per line.
    static func events(_ shell: RunningShell) -> [(target: String, name: String, data: JSONObject)] {
        shell.standardOutput.split(separator: "\n").compactMap { line in
            guard let reply = try? FleetTests.TaggedReply(String(line)), let name = reply.object["event"]?.stringValue
            else { return nil }
            return (reply.target, name, reply.object["data"]?.objectValue ?? [:])
        }
    }

    /// Whether `text` has a line with `target`'s event `name`, found by text (a flood's output is
    /// too long to parse at every look).
    static func hasEvent(_ name: String, from target: String, in text: String) -> Bool {
        text.ranges(of: #""event":"\#(name)"}"#).contains { range in
            let start = text[..<range.lowerBound].lastIndex(of: "\n").map { text.index(after: $0) } ?? text.startIndex
            return text[start...].hasPrefix(#"{"target":"\#(target)","#)
        }
    }

    /// Stops and resumes `qemu` until its RESUME shows in `shell`'s output (the shell may still be
    /// connecting to it when the first one is sent).
    static func pauseAndResume(_ qemu: QEMUInstance, until shell: RunningShell) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !hasEvent("RESUME", from: qemu.socketPath, in: shell.standardOutput) {
            guard ContinuousClock.now < deadline else {
                throw FakeServerError("no RESUME from \(qemu.socketPath): \(shell.standardError)")
            }
            try await qemu.controlExecute("stop")
            try await qemu.controlExecute("cont")
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    @Test func eventsOfSeveralQEMUsAreMergedTaggedAndCountedAcrossTargets() async throws {
        let qemus = try QEMUFleet(count: 3)
        let shell = try RunningShell(
            ["--watch", "--event", "STOP", "--event", "RESUME"] + qemus.instances.map(\.socketPath))
        for qemu in qemus.instances { try await Self.pauseAndResume(qemu, until: shell) }
        kill(shell.pid, SIGINT)
        #expect(try shell.waitForExit() == 0, "\(shell.standardError)")
        let events = Self.events(shell)
        #expect(events.count == shell.standardOutput.split(separator: "\n").count, "only tagged events on stdout")
        for qemu in qemus.instances {
            // Pairs, in order, ending with the RESUME the test waited for; the first may be a
            // RESUME alone when the shell connected between a pair's `stop` and its `cont`.
            let names = events.filter { $0.target == qemu.socketPath }.map(\.name)
            #expect(
                names.last == "RESUME" && zip(names, names.dropFirst()).allSatisfy { $0 != $1 },
                "\(qemu.socketPath): \(names)")
        }
        #expect(shell.standardError == "qmp-shell: 3 targets: 3 succeeded, 0 failed, 0 unreachable\n")

        // --count spans the targets: two events from any of them end the run with 0.
        let counted = try RunningShell(["--watch", "--count", "2"] + qemus.instances.map(\.socketPath))
        try await Self.pauseAndResume(qemus.instances[2], until: counted)
        #expect(try counted.waitForExit() == 0, "\(counted.standardError)")
        // The two events of one pair, or, if it connected within a pair, a RESUME and the next STOP.
        let counts = Self.events(counted).map(\.name)
        #expect(counts.count == 2 && Set(counts) == ["STOP", "RESUME"], "\(counted.standardOutput)")
    }

    @Test func aFloodingTargetNeitherDelaysNorDropsTheOthersEvents() async throws {
        let qemus = try QEMUFleet(count: 2)
        // Floods until the client goes: a thousand events per write, numbered.
        let flood = try FakeQMPServer { connection in
            try connection.handshake()
            var next = 1
            while true {
                var chunk = ""
                for _ in 0..<1000 {
                    chunk +=
                        #"{"event": "JOB_STATUS_CHANGE", "data": {"status": "running", "id": "job\#(next)"}, "timestamp": {"seconds": 1, "microseconds": 0}}"#
                        + "\r\n"
                    next += 1
                }
                if !connection.send(chunk) { return }
            }
        }
        let shell = try RunningShell(["--watch", flood.path] + qemus.instances.map(\.socketPath))
        try shell.waitUntil("the flood") { $0.standardOutput.utf8.count > 2_000_000 }
        // The flood never ends, so each QEMU's events shown at all (within pauseAndResume's 30 s)
        // were shown during it: a starved target fails there. How fast is the bench's business
        // (a bound on time here failed on a busy machine, not on the shell).
        for qemu in qemus.instances { try await Self.pauseAndResume(qemu, until: shell) }
        kill(shell.pid, SIGINT)
        #expect(try shell.waitForExit() == 0, "\(shell.standardError.suffix(500))")
        #expect(!shell.standardError.contains("dropped"), "\(shell.standardError.suffix(500))")
        // The flood itself lost nothing: its ids run without a gap.
        let floodPrefix = #"{"target":"\#(flood.path)","#
        let ids = shell.standardOutput.split(separator: "\n").filter { $0.hasPrefix(floodPrefix) }.map { line in
            line.firstRange(of: #""id":"job"#).map { line[$0.upperBound...].prefix { $0 != "\"" } } ?? ""
        }
        #expect(ids.count > 10_000)
        #expect(
            ids.elementsEqual((1...ids.count).lazy.map { "\($0)" }), "the flood's events came in order, none missing")
    }

    @Test func aSilentTargetDoesNotHoldUpTheRunAndALostOneIsSaidInlineAndFollowed() async throws {
        let qemus = try QEMUFleet(count: 2)
        let silent = try FakeQMPServer { connection in connection.waitForClose(timeout: .seconds(60)) }
        let first = qemus.instances[0]
        let shell = try RunningShell(
            ["--watch", "--event", "STOP", "--event", "RESUME", "--reconnect", "--retry-delay", "0.2", silent.path]
                + qemus.instances.map(\.socketPath))
        for qemu in qemus.instances { try await Self.pauseAndResume(qemu, until: shell) }

        // The first QEMU dies and comes back at the same path: said inline, and followed.
        first.kill()
        try shell.waitUntil("the reconnecting notice") {
            $0.standardError.contains("reconnecting to \(first.socketPath)")
        }
        let second = try QEMUInstance(socketPath: first.socketPath)
        try shell.waitUntil("the reconnection") { $0.standardError.contains("reconnected to QEMU") }
        let before = Self.events(shell).filter { $0.target == first.socketPath }.count
        try await second.controlExecute("stop")
        try await second.controlExecute("cont")
        try shell.waitUntil("the restarted QEMU's events") {
            Self.events($0).filter { $0.target == first.socketPath }.count >= before + 2
        }
        // The silent one was given up at the handshake's timeout, without holding anything up.
        try shell.waitUntil("the silent target's report") { $0.standardError.contains("\(silent.path): ") }
        kill(shell.pid, SIGINT)
        #expect(try shell.waitForExit() == 3, "\(shell.standardError)")
        #expect(shell.standardError.contains("qmp-shell: unreachable: \(silent.path)\n"), "\(shell.standardError)")
    }
}
