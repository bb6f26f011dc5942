import Foundation
import QMP
import QMPTestSupport
import QMPTestTraits
import Testing

/// `.qom-tree` and `.job` against real QEMU.
@Suite("The running VM: QOM tree and jobs against real QEMU", .timeLimit(.minutes(2)), .checksFakeServerScripts)
struct LiveVMTests {
    @Test func qomTreeThroughAPipeIsOneJSONObjectPerObject() throws {
        let qemu = try QEMUInstance()
        let result = try ShellBinary.run([
            "-c", "object-add qom-type=memory-backend-ram id=mem0 size=1048576", "-c", ".qom-tree", "-c",
            ".qom-tree /objects",
            qemu.socketPath,
        ])
        #expect(result.status == 0, "\(result.standardError)")
        let objects = try result.lines.dropFirst().map { try JSONParser.parse($0) }
        let byPath = Dictionary(
            uniqueKeysWithValues: objects.compactMap { object in
                object["path"]?.stringValue.map { ($0, object) }
            })
        #expect(byPath["/machine"]?["type"] == "none-machine")
        #expect(byPath["/machine/peripheral-anon"]?["type"] == "container")
        #expect(byPath["/machine/unattached"]?["type"] == "container")
        let memory = try #require(byPath["/objects/mem0"], "\(byPath.keys.sorted())")
        #expect(memory["type"] == "memory-backend-ram")
        let properties = try #require(memory["properties"]?.arrayValue)
        // Leaf values, read with qom-get.
        #expect(properties.contains { $0["name"] == "size" && $0["type"] == "int" && $0["value"] == 1_048_576 })
        #expect(properties.contains { $0["name"] == "type" && $0["value"] == "memory-backend-ram" })
        // Parents come before their children; each tree starts at its root.
        let paths = objects.compactMap { $0["path"]?.stringValue }
        #expect(paths.first == "/machine")
        #expect(paths.filter { !$0.hasPrefix("/machine") }.first == "/objects")
        #expect(try #require(paths.firstIndex(of: "/objects")) < #require(paths.firstIndex(of: "/objects/mem0")))
    }

    @Test func qomTreeOnATerminalIsIndentedWithTypesAndValues() throws {
        let qemu = try QEMUInstance()
        let home = try TemporaryDirectory(prefix: "qmp-home")
        let terminal = try PseudoTerminalSession(
            executable: ShellBinary.path, arguments: [qemu.socketPath],
            environment: ["HOME": home.path, "NO_COLOR": "1"], columns: 100, rows: 60)
        try terminal.waitForText("(QEMU) ")
        terminal.send(".qom-tree /machine/peripheral-anon\r")
        try terminal.waitForText("/machine/peripheral-anon <container>")
        terminal.send(".qom-tree /machine\r")
        let screen = try terminal.waitForScreen {
            $0.contains("  peripheral-anon <container>") && $0.contains("  unattached <container>")
        }
        #expect(screen.lines.contains("/machine <none-machine>"), "\(screen.lines)")
        #expect(screen.lines.contains("  type: string = \"none-machine\""), "\(screen.lines)")
        terminal.send(".qom-tree /nowhere\r")
        try terminal.waitForText(".qom-tree /nowhere: ")
        terminal.send("\u{4}")
        #expect(try terminal.waitForExit() == 0)
    }

    /// A raw image of `megabytes` MiB of non-zero bytes (so a job copies every cluster) and a qcow2
    /// image of the same size made by qemu-img, in `directory`.
    static func images(in directory: TemporaryDirectory, megabytes: Int) throws -> (source: String, target: String) {
        let source = try directory.filledFile("source.raw", megabytes: megabytes)
        let target = directory.file("target.qcow2")
        let make = Process()
        make.executableURL = URL(fileURLWithPath: "/usr/bin/qemu-img")
        make.arguments = ["create", "-q", "-f", "qcow2", target, "\(megabytes)M"]
        try make.run()
        make.waitUntilExit()
        #expect(make.terminationStatus == 0)
        return (source, target)
    }

    static func addNodes(_ images: (source: String, target: String)) -> [String] {
        [
            "blockdev-add driver=file node-name=src filename=\(images.source)",
            "blockdev-add driver=qcow2 node-name=dst file.driver=file file.filename=\(images.target)",
        ]
    }

    @Test func jobDrivesAThrottledMirrorThroughReadyToItsEnd() throws {
        let qemu = try QEMUInstance()
        let images = try Self.images(in: qemu.directory, megabytes: 3)
        let started = ContinuousClock.now
        // About 3 s at 1 MiB/s; the mirror waits in `ready` until .job completes it, and stays
        // concluded (auto-dismiss off) until .job dismisses it.
        let lines =
            Self.addNodes(images) + [
                "blockdev-mirror job-id=m0 device=src target=dst sync=full speed=1048576 auto-dismiss=false",
                ".job m0 timeout=60", "query-jobs",
            ]
        let result = try ShellBinary.run(lines.flatMap { ["-c", $0] } + [qemu.socketPath], timeout: .seconds(90))
        #expect(result.status == 0, "\(result.standardError)")
        #expect(ContinuousClock.now - started > .seconds(1), "the job was throttled")
        let messages = try result.lines.map { try JSONParser.parse($0) }
        let statuses = messages.filter { $0["event"] == "JOB_STATUS_CHANGE" }.compactMap {
            $0["data"]?["status"]?.stringValue
        }
        #expect(statuses.contains("ready") && statuses.contains("concluded") && statuses.last == "null", "\(statuses)")
        #expect(messages.contains { $0["event"] == "BLOCK_JOB_COMPLETED" && $0["data"]?["error"] == nil })
        #expect(messages.last?["return"] == [], "the job was dismissed: \(result.standardOutput)")
    }

    @Test func jobFinalizesABackupThatWaitsForIt() throws {
        let qemu = try QEMUInstance()
        let images = try Self.images(in: qemu.directory, megabytes: 2)
        let lines =
            Self.addNodes(images) + [
                "blockdev-backup job-id=b0 device=src target=dst sync=full speed=1048576 auto-finalize=false auto-dismiss=false",
                ".job b0", "query-jobs",
            ]
        let result = try ShellBinary.run(lines.flatMap { ["-c", $0] } + [qemu.socketPath], timeout: .seconds(90))
        #expect(result.status == 0, "\(result.standardError)")
        let messages = try result.lines.map { try JSONParser.parse($0) }
        let statuses = messages.filter { $0["event"] == "JOB_STATUS_CHANGE" }.compactMap {
            $0["data"]?["status"]?.stringValue
        }
        #expect(statuses.contains("pending") && statuses.last == "null", "\(statuses)")
        #expect(messages.last?["return"] == [])
    }

    @Test func aFailingJobFailsTheLineWithItsError() throws {
        let qemu = try QEMUInstance()
        let images = try Self.images(in: qemu.directory, megabytes: 1)
        let target = qemu.directory.file("target.raw")
        #expect(FileManager.default.createFile(atPath: target, contents: Data(count: 1 << 20)))
        let script = qemu.directory.file("failing.qmp")
        // Every write to the target fails (blkdebug), so the backup aborts with EIO.
        try """
        blockdev-add driver=file node-name=src filename=\(images.source)
        blockdev-add driver=blkdebug node-name=bad image.driver=file image.filename=\(target) inject-error=[{"event":"pwritev"}]
        blockdev-backup job-id=jf device=src target=bad sync=full auto-dismiss=false
        .job jf
        query-name
        """.write(toFile: script, atomically: true, encoding: .utf8)
        let result = try ShellBinary.run(["-f", script, qemu.socketPath])
        #expect(result.status == 1)
        #expect(result.standardError == "\(script):4: .job jf: Input/output error\n")
        #expect(!result.standardOutput.contains("\"name\""), "the line after the failure did not run")
        // Dismissed all the same.
        let after = try ShellBinary.run(["-c", "query-jobs", qemu.socketPath])
        #expect(after.lines == [#"{"return":[]}"#])
    }

    @Test func jobHonoursItsTimeoutAndNamesAMissingJob() throws {
        let qemu = try QEMUInstance()
        let images = try Self.images(in: qemu.directory, megabytes: 4)
        let started = ContinuousClock.now
        let lines =
            Self.addNodes(images) + [
                "blockdev-backup job-id=slow device=src target=dst sync=full speed=4096", ".job slow timeout=0.5",
            ]
        let result = try ShellBinary.run(lines.flatMap { ["-c", $0] } + [qemu.socketPath])
        #expect(result.status == 1)
        #expect(result.standardError == "-c:4: .job slow: still running after 0.5 s\n")
        #expect(ContinuousClock.now - started < .seconds(15))
        let missing = try ShellBinary.run(["-c", ".job nosuch", qemu.socketPath])
        #expect(missing.status == 1)
        #expect(missing.standardError == "-c:1: .job: no job 'nosuch' (query-jobs lists the jobs)\n")
    }
}
