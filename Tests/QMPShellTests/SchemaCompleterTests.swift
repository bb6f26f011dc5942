import Foundation
import QMP
import QMPLineSyntax
import QMPTestSupport
import Testing
import QMPSchema

@testable import QMPShell

/// Tab with the installed QEMU's schema: what replaces the word before the cursor.
@Suite(.timeLimit(.minutes(1))) struct SchemaCompleterTests {
    /// A completer as the interactive shell sets it up, without a device catalog.
    func completer() async throws -> Completer {
        let schema = try await InstalledSchema.schema()
        let completer = Completer(hmp: false)
        completer.setCommandNames(schema.commandNames)
        completer.setArgumentCompleter(SchemaCompleter(schema: { schema }, devices: { nil }))
        return completer
    }

    /// `line` ends where the cursor is; the outcome is `replaced → candidate candidate ...`.
    func tab(_ line: String, _ completer: Completer) -> String {
        let result = completer.complete(line)
        let replaced = String(line.suffix(result.replacementLength))
        return "\(replaced) → " + result.candidates.map { "[\($0)]" }.joined(separator: " ")
    }

    @Test(arguments: [
        // Argument names not given yet.
        ("block-dirty-bitmap-add node=n0 n", "n → [name=]"),
        ("block-dirty-bitmap-add node=n0 ", " → [disabled=] [granularity=] [name=] [persistent=]"),
        ("block-dirty-bitmap-add node=n0 name=b granularity=1 persistent=true disabled=true ", " → "),
        // Enum values and booleans; several candidates list only what follows the `=`.
        ("screendump filename=x format=", " → [ppm ] [png ]"),
        ("screendump filename=x format=pn", "pn → [png ]"),
        ("block-dirty-bitmap-add persistent=", " → [false ] [true ]"),
        ("block-dirty-bitmap-add persistent=T", "T → "),
        ("blockdev-add driver=qcow2 backing=nu", "nu → [null ]"),
        // Union members picked by the tag's value typed on the line.
        ("blockdev-add driver=qcow2 lazy-r", "lazy-r → [lazy-refcounts=]"),
        ("object-add qom-type=memory-backend-ram si", "si → [size=]"),
        ("blockdev-add lazy-r", "lazy-r → "),
        ("blockdev-add driver=qco", "qco → [qcow ] [qcow2 ]"),
        // Nested members, and both ways to write an alternate with an object branch.
        ("blockdev-add driver=qcow2 fi", "fi → [file.] [file=]"),
        ("blockdev-add driver=qcow2 file.dr", "dr → [driver=]"),
        ("blockdev-add driver=qcow2 file.driver=file file.fi", "fi → [filename=]"),
        ("blockdev-add driver=qcow2 file.d", "d → [detect-zeroes=] [discard=] [driver=]"),
        ("blockdev-add driver=raw file.driver=nbd file.server.ty", "ty → [type=]"),
        ("blockdev-add driver=qcow2 cache.", " → [direct=] [no-flush=]"),
        ("blockdev-add driver=qcow2 cache.direct=true cache.", " → [no-flush=]"),
        // Events after .wait, then their data members and timeout.
        ("ver", "ver → "),
        (".wait BLOCK_JOB_CO", "BLOCK_JOB_CO → [BLOCK_JOB_COMPLETED ]"),
        (".wait BLOCK_JOB_COMPLETED dev", "dev → [device=]"),
        (".wait BLOCK_JOB_COMPLETED ti", "ti → [timeout=]"),
        (".wait BLOCK_JOB_COMPLETED type=mir", "mir → [mirror ]"),
        // .help: directives, commands and events.
        (".help BLOCK_JOB_COMPLE", "BLOCK_JOB_COMPLE → [BLOCK_JOB_COMPLETED ]"),
        (".help query-stat", "query-stat → [query-stats ] [query-stats-schemas ] [query-status ]"),
        (".help wai", "wai → [wait ]"),
        (".s", ".s → [.sleep ] [.source ]"),
        // Transactions: action names, their arguments, and the closing parenthesis.
        ("transaction( block-dirty-bitmap-a", "block-dirty-bitmap-a → [block-dirty-bitmap-add ]"),
        ("transaction( block-dirty-bitmap-add node=n0 na", "na → [name=]"),
        (
            "transaction( abort block",
            "block → [block-dirty-bitmap-add ] [block-dirty-bitmap-clear ] [block-dirty-bitmap-disable ] [block-dirty-bitmap-enable ] [block-dirty-bitmap-merge ] [block-dirty-bitmap-remove ] [blockdev-backup ] [blockdev-snapshot ] [blockdev-snapshot-internal-sync ] [blockdev-snapshot-sync ]"
        ),
        (
            "transaction( abort ",
            " → [abort ] [block-dirty-bitmap-add ] [block-dirty-bitmap-clear ] [block-dirty-bitmap-disable ] [block-dirty-bitmap-enable ] [block-dirty-bitmap-merge ] [block-dirty-bitmap-remove ] [blockdev-backup ] [blockdev-snapshot ] [blockdev-snapshot-internal-sync ] [blockdev-snapshot-sync ] [drive-backup ] [) ]"
        ),
        // Commands the schema does not know: nothing to offer.
        ("no-such-command x", " → "),
    ])
    func tabCompletes(line: String, expected: String) async throws {
        let completer = try await completer()
        #expect(tab(line, completer) == expected)
    }

    /// After `transaction(` Enter, the `TRANS> ` lines hold actions and their arguments.
    @Test func linesOfAnOpenTransactionCompleteActionsAndTheirArguments() async throws {
        let completer = try await completer()
        completer.setContinuingTransaction(true)
        #expect(tab("block-dirty-bitmap-a", completer) == "block-dirty-bitmap-a → [block-dirty-bitmap-add ]")
        #expect(tab("block-dirty-bitmap-add node=n0 na", completer) == "na → [name=]")
        #expect(tab("blockdev-snapshot-sync node-name=n0 snapshot-file=x mo", completer) == "mo → [mode=]")
        #expect(tab("abort ", completer).hasSuffix("[drive-backup ] [) ]"))
        completer.setContinuingTransaction(false)
        #expect(tab("abort ", completer) == " → ", "abort is no command")
    }

    @Test func fileNamesWhereAFileIsExpected() async throws {
        let completer = try await completer()
        let directory = try TemporaryDirectory()
        #expect(FileManager.default.createFile(atPath: directory.file("shot.ppm"), contents: nil))
        #expect(FileManager.default.createFile(atPath: directory.file("my shot.ppm"), contents: nil))
        #expect(FileManager.default.createFile(atPath: directory.file(".hidden"), contents: nil))
        try FileManager.default.createDirectory(atPath: directory.file("images"), withIntermediateDirectories: false)
        let base = directory.path + "/"
        #expect(tab("screendump filename=\(base)", completer) == " → [\"my shot.ppm\" ] [images/] [shot.ppm ]")
        #expect(tab("screendump filename=\(base)sh", completer) == "sh → [shot.ppm ]")
        #expect(tab("screendump filename=\(base)i", completer) == "i → [images/]")
        #expect(tab("screendump filename=\(base).h", completer) == ".h → [.hidden ]")
        #expect(tab("blockdev-add driver=file filename=\(base)sh", completer).hasSuffix("[shot.ppm ]"))
        #expect(
            tab("blockdev-add driver=qcow2 file.driver=file file.filename=\(base)sh", completer).hasSuffix("shot.ppm ]")
        )
        #expect(tab(".source \(base)sh", completer) == "sh → [shot.ppm ]")
        #expect(tab(".add-fd \(base)sh", completer) == "sh → [shot.ppm ]")
        #expect(tab(".getfd name \(base)sh", completer) == "sh → [shot.ppm ]")
        #expect(tab(".getfd \(base)sh", completer) == " → ")
        // A QOM path is no file, and neither is a node name.
        #expect(tab("qom-list path=\(base)", completer) == "\(base) → ")
        #expect(tab("blockdev-add driver=qcow2 file=\(base)", completer) == "\(base) → ")
    }

    @Test func deviceTypesAndPropertiesArriveOnALaterTab() async throws {
        let qemu = try QEMUInstance()
        defer { qemu.kill() }
        let client = QMPClient(configuration: .patient)
        try await client.connect(to: .unix(path: qemu.socketPath))
        let catalog = DeviceCatalog(client: client)
        let schema = try await InstalledSchema.schema()
        let completer = Completer(hmp: false)
        completer.setArgumentCompleter(SchemaCompleter(schema: { schema }, devices: { catalog }))
        // Tab never waits: the first ones start the fetches and offer what the schema has.
        func tabUntil(_ line: String, _ condition: (String) -> Bool) async throws -> String {
            for _ in 0..<200 {
                let outcome = tab(line, completer)
                if condition(outcome) { return outcome }
                try await Task.sleep(for: .milliseconds(25))
            }
            return tab(line, completer)
        }
        let types = try await tabUntil("device_add driver=virtio-blk-pci-t") { !$0.hasSuffix("→ ") }
        #expect(types == "virtio-blk-pci-t → [virtio-blk-pci-transitional ]")
        #expect(tab("device_add driver=virtio-blk-pc", completer).hasPrefix("virtio-blk-pc → [virtio-blk-pci ] "))
        let properties = try await tabUntil("device_add driver=virtio-blk-pci num-q") { $0.contains("num-queues") }
        #expect(properties == "num-q → [num-queues=]")
        let names = tab("device_add driver=virtio-blk-pci i", completer)
        #expect(names.hasPrefix("i → [id=] [indirect_desc=] [ioeventfd=] "), "\(names)")
        #expect(!tab("device_add driver=virtio-blk-pci id=x i", completer).contains("[id=]"))
        #expect(tab("device_add driver=virtio-blk-pci ioeventfd=", completer) == " → [false ] [true ]")
        await client.disconnect()
    }

    @Test func withoutASchemaTheCompleterFallsBackToCommandNames() {
        let completer = Completer(hmp: false)
        completer.setCommandNames(["query-status", "query-name", "stop"])
        completer.setArgumentCompleter(SchemaCompleter(schema: { nil }, devices: { nil }))
        #expect(tab("transaction( st", completer) == "st → [stop ]")
        #expect(tab("query-status fl", completer) == " → ")
        #expect(tab(".help qu", completer) == "qu → [query-name ] [query-status ] [quit ]")
    }
}
