import Foundation
import QMP
import QMPTestSupport
import QMPTestTraits
import Testing

/// Scripts that wait for events, and watch mode, against real QEMU.
@Suite("Scripting and watching against real QEMU", .timeLimit(.minutes(2)), .checksFakeServerScripts)
struct ScriptingTests {
    @Test func blockJobScriptWaitsForEachJobBeforeDismissingIt() throws {
        let qemu = try QEMUInstance()
        let image = qemu.directory.file("disk.qcow2")
        let script = qemu.directory.file("create-disk.qmp")
        // The example of Docs/SCRIPTING.md as printed there, with a temporary image path.
        let example = try Self.firstScript(inDocument: "Docs/SCRIPTING.md")
        #expect(example.contains("/var/tmp/disk.qcow2"))
        try example.replacingOccurrences(of: "/var/tmp/disk.qcow2", with: image)
            .write(toFile: script, atomically: true, encoding: .utf8)
        let result = try ShellBinary.run(["-f", script, qemu.socketPath])
        #expect(result.status == 0, "\(result.standardError)")
        let messages = try result.lines.map { try JSONParser.parse($0) }
        let waited = messages.filter { $0["event"] == "JOB_STATUS_CHANGE" && $0["data"]?["status"] == "concluded" }
        // Each event shows once, the ones .wait matched included.
        #expect(waited.filter { $0["data"]?["id"] == "j0" }.count == 1)
        let nodes = try #require(messages.last?["return"]?.arrayValue)
        let disk = try #require(nodes.first { $0["node-name"] == "disk0" })
        #expect(disk["drv"] == "qcow2")
        #expect(disk["image"]?["virtual-size"]?.intValue == 67_108_864)
    }

    /// The first fenced block of a page in Docs/ (so the page's example is what the test runs).
    static func firstScript(inDocument path: String) throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let page = try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
        let parts = page.components(separatedBy: "```\n")
        guard parts.count >= 3 else { throw FakeServerError("no fenced block in \(path)") }
        return parts[1]
    }

    @Test func waitTimesOutAsAFailureNamingTheLine() throws {
        let qemu = try QEMUInstance()
        let started = ContinuousClock.now
        let result = try ShellBinary.run([
            "-c", "query-status", "-c", ".wait RESUME timeout=0.5", "-c", "query-name", qemu.socketPath,
        ])
        #expect(result.status == 1)
        #expect(result.lines.count == 1, "the line after the timeout did not run")
        #expect(result.standardError == "-c:2: .wait: no RESUME within 0.5 s\n")
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test func waitCountsAnEventThatArrivedBeforeTheCommandsReply() throws {
        let qemu = try QEMUInstance()
        // STOP arrives before the reply to `stop`: .wait must still find it.
        let result = try ShellBinary.run([
            "-c", "stop", "-c", ".wait STOP timeout=5", "-c", "cont", "-c", ".wait RESUME timeout=5", qemu.socketPath,
        ])
        #expect(result.status == 0, "\(result.standardError)")
    }

    @Test(.timeLimit(.minutes(2))) func waitFindsAnEventThatArrivedBeforeTheCommandsInBetween() throws {
        let qemu = try QEMUInstance()
        let source = qemu.directory.file("source.raw")
        let backup = qemu.directory.file("backup.raw")
        for file in [source, backup] {
            #expect(FileManager.default.createFile(atPath: file, contents: Data(count: 1 << 20)))
        }
        let script = qemu.directory.file("backup.qmp")
        // The job ends during the .sleep: its events arrive before query-block-jobs is sent.
        try """
        blockdev-add driver=file node-name=d0 filename=\(source)
        blockdev-add driver=file node-name=bk filename=\(backup)
        blockdev-backup job-id=j9 device=d0 target=bk sync=full
        .sleep 1
        query-block-jobs
        .wait BLOCK_JOB_COMPLETED device=j9 timeout=3
        .wait JOB_STATUS_CHANGE id=j9 status=null timeout=3
        """.write(toFile: script, atomically: true, encoding: .utf8)
        let result = try ShellBinary.run(["-f", script, qemu.socketPath])
        #expect(result.status == 0, "\(result.standardError)")
        let messages = try result.lines.map { try JSONParser.parse($0) }
        #expect(messages.filter { $0["event"] == "BLOCK_JOB_COMPLETED" }.count == 1, "\(result.standardOutput)")
        #expect(messages.filter { $0["event"] == "JOB_STATUS_CHANGE" && $0["data"]?["status"] == "null" }.count == 1)
        #expect(messages.contains { $0["return"] == [] }, "query-block-jobs ran after the job had gone")
    }

    @Test(.timeLimit(.minutes(2))) func eachWaitConsumesItsEventOnce() throws {
        let qemu = try QEMUInstance()
        let result = try ShellBinary.run([
            "-c", "stop", "-c", "cont", "-c", "stop", "-c", ".wait STOP timeout=5", "-c", ".wait STOP timeout=5",
            "-c", ".wait STOP timeout=0.5", qemu.socketPath,
        ])
        #expect(result.status == 1)
        #expect(result.standardError == "-c:6: .wait: no STOP within 0.5 s\n")
        #expect(result.lines.filter { $0.contains(#""event":"STOP""#) }.count == 2, "\(result.standardOutput)")
    }

    @Test func sourcedFilesRunNestedAndACycleIsRefused() throws {
        let qemu = try QEMUInstance()
        let directory = try TemporaryDirectory()
        let inner = directory.file("inner.qmp")
        let outer = directory.file("outer.qmp")
        try "query-name\n.source \(outer)\n".write(toFile: inner, atomically: true, encoding: .utf8)
        try "query-status\n.source \(inner)\n".write(toFile: outer, atomically: true, encoding: .utf8)
        let result = try ShellBinary.run(["-f", outer, qemu.socketPath])
        #expect(result.status == 1)
        #expect(result.lines.count == 2)
        #expect(
            result.standardError.contains("\(inner):2: .source: \(outer) is already being run"),
            "\(result.standardError)")
    }

    @Test func watchPrintsExactlyTheCountedEventsAsJSON() async throws {
        let qemu = try QEMUInstance()
        let socket = qemu.socketPath
        let finished = Flag()
        let watching = Task.detached {
            defer { finished.set() }
            return try ShellBinary.run(["--watch", "--event", "RESUME", "--count", "1", socket], timeout: .seconds(30))
        }
        // Keep stopping and resuming until the watcher has seen its RESUME and exited (it may
        // connect after the first round).
        while !finished.isSet {
            try await qemu.controlExecute("stop")
            try await qemu.controlExecute("cont")
            try await Task.sleep(for: .milliseconds(100))
        }
        let result = try await watching.value
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.lines.count == 1)
        let event = try JSONParser.parse(try #require(result.lines.first))
        #expect(event["event"] == "RESUME")
        #expect(event["timestamp"]?["seconds"]?.intValue != nil)
    }

    @Test func watchPrintsEveryEventOfAFloodInOrder() throws {
        let count = 200_000
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            connection.sendJobEventFlood(count: count, idPrefix: "j")
            connection.waitForClose(timeout: .seconds(60))
        }
        // About 5 s on a quiet machine and 33 s with five builds sharing the two cores: 60 s.
        let result = try ShellBinary.run(["--watch", "--count", "\(count)", server.path], timeout: .seconds(60))
        #expect(result.status == 0, "\(result.standardError)")
        #expect(!result.standardError.contains("dropped"), "\(result.standardError)")
        let lines = result.lines
        #expect(lines.count == count)
        #expect(lines.first?.contains(#""id":"j1""#) == true)
        #expect(lines.last?.contains(#""id":"j\#(count)""#) == true)
    }

    @Test func watchTimeoutWithoutTheCountExitsOne() throws {
        let qemu = try QEMUInstance()
        let result = try ShellBinary.run(["--watch", "--count", "1", "--timeout", "0.3", qemu.socketPath])
        #expect(result.status == 1)
        #expect(result.standardOutput.isEmpty)
    }
}

import Synchronization

/// A flag one task sets and another polls.
final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
