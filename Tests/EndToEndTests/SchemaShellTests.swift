import Foundation
import QMP
import QMPTestSupport
import QMPTestTraits
import Synchronization
import Testing

/// The schema-aware shell against real QEMU: Tab completes arguments and values in a real
/// pseudo-terminal; scripts get values typed by the schema and errors before anything is sent;
/// the schema is cached per QEMU build.
@Suite("Schema-aware shell against real QEMU", .serialized, .timeLimit(.minutes(2)), .checksFakeServerScripts)
struct SchemaShellTests {
    typealias Session = InteractiveShellTests.Session

    /// Types `text`, presses Tab once and waits until the line reads `expected`; then Ctrl-C
    /// clears it (and an open transaction) for the next case.
    func complete(_ session: Session, _ text: String, to expected: String, prompt: String = "(QEMU) ") throws {
        session.terminal.send(text + "\t")
        do {
            try session.waitForPromptLine(prompt + expected)
        } catch {
            throw FakeServerError("\(text)<Tab> did not give \(expected): \(session.terminal.screen)")
        }
        session.terminal.send("\u{3}")
        try session.waitForPromptLine("(QEMU)")
    }

    @Test func tabCompletesEveryKindOfArgumentAndValue() throws {
        let session = try Session()
        let files = try TemporaryDirectory()
        #expect(FileManager.default.createFile(atPath: files.file("shot.ppm"), contents: nil))
        // The schema arrives just after the first prompt.
        session.terminal.send("block-dirty-bitmap-add node=n0 na")
        try InteractiveShellTests().pressTabUntil(session) { screen in
            screen.lines.last(where: { !$0.isEmpty }) == "(QEMU) block-dirty-bitmap-add node=n0 name="
        }
        session.terminal.send("\u{3}")
        try session.waitForPromptLine("(QEMU)")

        try complete(session, "blockdev-add driver=qcow2 file.dr", to: "blockdev-add driver=qcow2 file.driver=")
        try complete(session, "screendump filename=x format=pp", to: "screendump filename=x format=ppm")
        try complete(session, "block-dirty-bitmap-add persistent=t", to: "block-dirty-bitmap-add persistent=true")
        try complete(session, "blockdev-add driver=qcow2 lazy-r", to: "blockdev-add driver=qcow2 lazy-refcounts=")
        try complete(
            session, "object-add qom-type=memory-backend-ram si", to: "object-add qom-type=memory-backend-ram size=")
        try complete(session, ".wait BLOCK_JOB_COMPL", to: ".wait BLOCK_JOB_COMPLETED")
        try complete(session, "screendump filename=\(files.path)/sh", to: "screendump filename=\(files.path)/shot.ppm")

        // Several candidates: the common prefix adds nothing, so they are listed like a shell.
        session.terminal.send("blockdev-add driver=qcow2 file.d\t")
        // The list, then the line drawn again under it (two writes: wait for both).
        let listed = try session.waitForPromptLine("(QEMU) blockdev-add driver=qcow2 file.d", below: "detect-zeroes=")
        #expect(listed.contains("discard=") && listed.contains("driver="), "\(listed)")
        session.terminal.send("\u{3}")
        try session.waitForPromptLine("(QEMU)")

        // The lines of an open transaction complete as its actions.
        session.terminal.send("transaction(\r")
        try session.waitForPromptLine("TRANS>")
        try complete(
            session, "block-dirty-bitmap-add node=n0 na", to: "block-dirty-bitmap-add node=n0 name=", prompt: "TRANS> ")

        // Device types and their properties are fetched on the first Tab and offered on a later one.
        session.terminal.send("device_add driver=virtio-blk-pci-t")
        try InteractiveShellTests().pressTabUntil(session) { screen in
            screen.lines.last(where: { !$0.isEmpty }) == "(QEMU) device_add driver=virtio-blk-pci-transitional"
        }
        session.terminal.send(" num-q")
        try InteractiveShellTests().pressTabUntil(session) { screen in
            screen.lines.last(where: { !$0.isEmpty })?.hasSuffix("num-queues=") == true
        }
    }

    @Test func theDeclaredTypeDecidesTheValueAndMistakesAreCaughtBeforeSending() throws {
        let session = try Session()
        session.terminal.send("blockdev-add driver=null-co node-name=n0\r")
        try session.terminal.waitForText(#"{"return":{}}"#)
        try session.waitForPromptLine("(QEMU)")
        // name is a str: 7 goes as "7", which QEMU accepts (it refuses the number 7).
        session.terminal.send("block-dirty-bitmap-add node=n0 name=7\r")
        try session.terminal.waitForScreen { $0.lines.filter { $0 == #"{"return":{}}"# }.count == 2 }
        session.terminal.send("block-dirty-bitmap-add node=n0 nme=b\r")
        try session.terminal.waitForText("unknown argument 'nme' for block-dirty-bitmap-add (did you mean 'name'?)")
        session.terminal.send("block-dirty-bitmap-add node=n0 name=b granularity=abc\r")
        try session.terminal.waitForText("'granularity' expects an integer (int), got 'abc'")
        session.terminal.send(".help screendump\r")
        try session.terminal.waitForText("[format=enum]               ppm png")
        // The bitmap called "7" exists: removing it succeeds.
        session.terminal.send("block-dirty-bitmap-remove node=n0 name=7\r")
        try session.terminal.waitForScreen { $0.lines.filter { $0 == #"{"return":{}}"# }.count == 3 }
    }

    @Test func scriptsAreTypedAndCheckedAndNothingWrongIsSent() throws {
        let qemu = try QEMUInstance()
        let home = try TemporaryDirectory(prefix: "qmp-home")
        let log = home.file("log.jsonl")
        let result = try ShellBinary.run(
            [
                "--keep-going", "-l", log,
                "-c", "blockdev-add driver=null-co node-name=n0",
                "-c", "block-dirty-bitmap-add node=n0 name=7",
                "-c", "block-dirty-bitmap-add node=n0 nme=b",
                "-c", "block-dirty-bitmap-add node=n0 name=b granularity=abc",
                "-c", "block-dirty-bitmap-add node=n0",
                "-c", "query-status flag=1",
                qemu.socketPath,
            ], environment: ["HOME": home.path, "XDG_CACHE_HOME": ""])
        #expect(result.status == 1)
        #expect(result.lines == [#"{"return":{}}"#, #"{"return":{}}"#])
        #expect(
            result.standardError == """
                -c:3: column 32: unknown argument 'nme' for block-dirty-bitmap-add (did you mean 'name'?)
                -c:4: column 51: 'granularity' expects an integer (int), got 'abc'
                -c:5: missing argument 'name' (str) for block-dirty-bitmap-add
                -c:6: column 14: query-status takes no arguments, got 'flag'

                """)
        let sent = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
            .compactMap { try? JSONParser.parse(String($0)) }
            .filter { $0["direction"] == "out" }.compactMap { $0["message"]?["execute"]?.stringValue }
        #expect(sent.filter { $0 == "block-dirty-bitmap-add" }.count == 1, "\(sent)")
        #expect(!sent.contains("query-status"))
    }

    @Test func aPoisonedCacheEntryIsReplacedByTheServersSchemaAndDecidesNothing() throws {
        let qemu = try QEMUInstance()
        let home = try TemporaryDirectory(prefix: "qmp-home")
        let cacheHome = home.file("xdg-cache")
        let environment = ["HOME": home.path, "XDG_CACHE_HOME": cacheHome]
        let line = "block-dirty-bitmap-add node=nowhere name=b"
        // A first session caches the real schema, under the key the real QEMU claims.
        _ = try ShellBinary.run(["-c", line, qemu.socketPath], environment: environment)
        let files = try FileManager.default.contentsOfDirectory(atPath: cacheHome + "/qmp-shell")
        let cached = cacheHome + "/qmp-shell/" + files[0]
        let real = try JSONParser.parse(try String(contentsOfFile: cached, encoding: .utf8))
        // A hostile server with the same claims leaves a schema in which the command takes nothing.
        var poisoned = try #require(real.objectValue)
        poisoned["schema"] = try JSONParser.parse(
            #"[{"name": "block-dirty-bitmap-add", "meta-type": "command", "arg-type": "0", "ret-type": "0"}, "#
                + #"{"name": "0", "meta-type": "object", "members": []}]"#)
        try JSONValue.object(poisoned).serialized().write(toFile: cached, atomically: false, encoding: .utf8)
        for session in 1...2 {
            let result = try ShellBinary.run(["-c", line, qemu.socketPath], environment: environment)
            // Accepted and sent: QEMU itself refuses the missing node.
            #expect(result.status == 1, "session \(session): \(result.standardError)")
            #expect(result.standardError.contains("GenericError"), "session \(session): \(result.standardError)")
            #expect(!result.standardError.contains("takes no arguments"), "session \(session)")
            #expect(try JSONParser.parse(try String(contentsOfFile: cached, encoding: .utf8)) == real, "replaced")
        }
    }

    @Test func theSchemaIsCachedPerQEMUBuildAndACorruptCacheIsFetchedAgain() throws {
        let qemu = try QEMUInstance()
        let home = try TemporaryDirectory(prefix: "qmp-home")
        let cacheHome = home.file("xdg-cache")
        let log = home.file("log.jsonl")
        func run() throws -> [String] {
            try? FileManager.default.removeItem(atPath: log)
            let result = try ShellBinary.run(
                ["-l", log, "-c", "block-dirty-bitmap-add node=nowhere name=b", qemu.socketPath],
                environment: ["HOME": home.path, "XDG_CACHE_HOME": cacheHome])
            #expect(result.status == 1, "QEMU refuses the missing node: \(result.standardError)")
            #expect(result.standardError.contains("GenericError"), "\(result.standardError)")
            return try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
                .compactMap { try? JSONParser.parse(String($0)) }
                .filter { $0["direction"] == "out" }.compactMap { $0["message"]?["execute"]?.stringValue }
        }
        #expect(try run().contains("query-qmp-schema"))
        let files = try FileManager.default.contentsOfDirectory(atPath: cacheHome + "/qmp-shell")
        let version = try QEMUInstance.installedVersion()
        #expect(files.count == 1 && files[0].hasPrefix("schema-\(version)-"), "\(files)")
        let cached = cacheHome + "/qmp-shell/" + files[0]
        #expect(try FileManager.default.attributesOfItem(atPath: cached)[.posixPermissions] as? Int == 0o600)
        let saved = try String(contentsOfFile: cached, encoding: .utf8)
        // Every session confirms the cached schema with the server's; the file stays as it is.
        #expect(try run().contains("query-qmp-schema"))
        #expect(try String(contentsOfFile: cached, encoding: .utf8) == saved)
        // A corrupt file is repaired.
        try "{ not json".write(toFile: cached, atomically: false, encoding: .utf8)
        #expect(try run().contains("query-qmp-schema"))
        #expect(try String(contentsOfFile: cached, encoding: .utf8) == saved)
        // A cache that cannot be written is skipped without a word.
        let blocked = try ShellBinary.run(
            ["-c", "block-dirty-bitmap-add node=n0 name=7 nme=x", qemu.socketPath],
            environment: ["HOME": home.path, "XDG_CACHE_HOME": log])
        #expect(
            blocked.standardError
                == "-c:1: column 39: unknown argument 'nme' for block-dirty-bitmap-add (did you mean 'name'?)\n")
    }

    @Test func theEventOptionCompletesFromCachedSchemas() throws {
        let qemu = try QEMUInstance()
        let home = try TemporaryDirectory(prefix: "qmp-home")
        let environment = ["HOME": home.path, "XDG_CACHE_HOME": home.file("xdg-cache")]
        // What bash, zsh and fish run on Tab after `--event BLOCK_J` (see the generated scripts).
        func complete() throws -> [String] {
            try ShellBinary.run(
                ["---completion", "--", "--event", "1", "7", "--event", "BLOCK_J"], environment: environment
            )
            .lines
        }
        #expect(try complete() == [], "nothing is known before a schema was cached")
        _ = try ShellBinary.run(
            ["-c", "block-dirty-bitmap-add node=nowhere name=b", qemu.socketPath], environment: environment)
        let names = try complete()
        #expect(names.contains("BLOCK_JOB_COMPLETED") && names.contains("BLOCK_JOB_READY"), "\(names)")
        #expect(names.allSatisfy { $0.hasPrefix("BLOCK_J") }, "\(names)")
        let bash = try ShellBinary.run(["--generate-completion-script", "bash"])
        #expect(bash.standardOutput.contains("---completion -- --event"), "the script asks the binary for --event")
    }

    @Test func noSchemaCheckSendsWhatTheSchemaWouldRefuse() throws {
        let qemu = try QEMUInstance()
        let result = try ShellBinary.run(
            [
                "--no-schema-check", "-c", "blockdev-add driver=null-co node-name=n0",
                "-c", "block-dirty-bitmap-add node=n0 name=7 granularity=abc", qemu.socketPath,
            ])
        #expect(result.status == 1)
        #expect(result.lines.count == 2)
        // QEMU's own words: the value was sent as typed.
        #expect(result.standardError.contains("granularity"), "\(result.standardError)")
        #expect(result.standardError.contains("GenericError"), "\(result.standardError)")
    }

    @Test func withoutAServerOrASchemaTheSyntaxRulesApply() throws {
        // A dry run has no server, hence no schema.
        let dry = try ShellBinary.run(["--dry-run", "-c", "block-dirty-bitmap-add node=n0 name=7"])
        #expect(dry.status == 0)
        #expect(dry.lines == [#"{"execute":"block-dirty-bitmap-add","arguments":{"node":"n0","name":7}}"#])
        // The guest agent has no query-qmp-schema.
        let agent = try GuestAgentInstance()
        let result = try ShellBinary.run(["-g", "-c", "guest-sync id=5", "-c", ".help guest-ping", agent.socketPath])
        #expect(result.status == 1)
        #expect(result.lines == [#"{"return":5}"#])
        #expect(
            result.standardError.contains("-c:2: .help: no command, event or directive 'guest-ping'"),
            "\(result.standardError)")
    }

    @Test func aSchemaThatNeverComesIsGivenUpAfterTenSecondsAndSaidOnce() throws {
        let qemu = try QEMUInstance()
        let directory = try TemporaryDirectory()
        let log = directory.file("messages.jsonl")
        let shell = try RunningShell(
            ["--command-timeout", "1", "--keep-going", "-l", log, "-f", "-", qemu.socketPath],
            environment: ["XDG_CACHE_HOME": directory.file("cache")])
        try shell.waitUntil("the handshake") { _ in
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains(#""return""#)
        }
        // Stopped as in a debugger: the schema the first line with arguments needs never comes.
        kill(qemu.pid, SIGSTOP)
        defer { kill(qemu.pid, SIGCONT) }
        let started = ContinuousClock.now
        shell.write("qom-list path=/\nqom-list path=/machine\n")
        shell.closeInput()
        #expect(try shell.waitForExit(timeout: .seconds(60)) == 1)
        // 10 s for the schema, then each line's own second.
        #expect(ContinuousClock.now - started < .seconds(30))
        try shell.waitUntil("both lines named") { $0.standardError.contains("<stdin>:2:") }
        let lines = shell.standardError.split(separator: "\n")
        #expect(
            lines.filter { $0.contains("did not send its schema within 10 s: running without it") }.count == 1,
            "\(lines)")
        #expect(lines.contains("<stdin>:1: no reply to qom-list within 1 s"), "\(lines)")
        #expect(lines.contains("<stdin>:2: no reply to qom-list within 1 s"), "\(lines)")
    }
}
