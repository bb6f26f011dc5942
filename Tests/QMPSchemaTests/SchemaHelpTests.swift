import QMP
import QMPTestSupport
import QMPLineSyntax
import Testing
@testable import QMPSchema

/// `.help COMMAND` and `.help EVENT` from the schema.
@Suite(.timeLimit(.minutes(1))) struct SchemaHelpTests {
    @Test func aCommandListsItsArgumentsWithTypesOptionalMarksAndEnumValues() async throws {
        let help = SchemaHelp(schema: try await InstalledSchema.schema())
        #expect(
            help.text(for: "screendump") == """
                screendump (command)
                  filename=str
                  [device=str]
                  [head=int]
                  [format=enum]               ppm png

                """)
        #expect(help.text(for: "query-status") == "query-status (command, no arguments)\n")
        #expect(help.text(for: "STOP") == "STOP (event, no data)\n")
        #expect(help.text(for: "no-such-thing") == nil)
    }

    @Test func aUnionShowsTheVariantTheTagPicksOrHowToPickOne() async throws {
        let help = SchemaHelp(schema: try await InstalledSchema.schema())
        let all = try #require(help.text(for: "blockdev-add"))
        #expect(all.contains("  driver=enum                 blkdebug "))
        #expect(all.contains("  [cache.direct=bool]\n"))
        #expect(all.hasSuffix("  more members with each driver=VALUE (add it to .help)\n"))
        #expect(!all.contains("lazy-refcounts"))
        let qcow2 = try #require(help.text(for: "blockdev-add", selection: [["driver"]: "qcow2"]))
        #expect(qcow2.hasPrefix("blockdev-add driver=qcow2 (command)\n"))
        #expect(qcow2.contains("\n  driver=qcow2\n"))
        #expect(qcow2.contains("\n  file=object|str\n"))
        #expect(qcow2.contains("\n  [lazy-refcounts=bool]\n"))
        // A nested union: chardev-add's backend.
        let file = try #require(help.text(for: "chardev-add", selection: [["backend", "type"]: "file"]))
        #expect(file.contains("\n  backend.data.out=str\n"))
        #expect(file.contains("\n  [backend.data.append=bool]\n"))
    }

    @Test(.timeLimit(.minutes(2))) func featuresAreMarkedAtEveryDepth() async throws {
        let help = SchemaHelp(schema: try await InstalledSchema.schema())
        let text = try #require(help.text(for: "blockdev-backup"))
        // x-perf is unstable, so is every member shown under it.
        #expect(text.contains("\n  [x-perf.use-copy-range=bool] (unstable)\n"), "\(text)")
        #expect(text.contains("\n  [x-perf.max-workers=int] (unstable)\n"), "\(text)")
        #expect(text.contains("\n  [x-perf.max-chunk=int] (unstable)\n"), "\(text)")
        #expect(text.contains("\n  [speed=int]\n"), "\(text)")
    }

    @Test func anEventListsItsData() async throws {
        let help = SchemaHelp(schema: try await InstalledSchema.schema())
        let text = try #require(help.text(for: "BLOCK_JOB_COMPLETED"))
        #expect(text.hasPrefix("BLOCK_JOB_COMPLETED (event)\n  type=enum "))
        #expect(text.contains("\n  device=str\n"))
        #expect(text.contains("\n  [error=str]\n"))
    }

    /// Every command and event, and every variant of every top-level union, fits in 80 columns.
    @Test func everyHelpFitsInEightyColumns() async throws {
        let schema = try await InstalledSchema.schema()
        let help = SchemaHelp(schema: schema)
        var texts: [String] = []
        for name in schema.commandNames + schema.eventNames {
            texts.append(try #require(help.text(for: name)))
            let root = schema.commands[name]?.argumentType ?? schema.events[name]!.argumentType
            if let object = schema.objectType(named: root), let tag = object.tag {
                for variant in object.variants {
                    texts.append(try #require(help.text(for: name, selection: [[tag]: variant.tagValue])))
                }
            }
        }
        let tooWide = texts.flatMap { $0.split(separator: "\n") }.filter { $0.count > 80 }
        #expect(tooWide.isEmpty, "\(tooWide.prefix(5))")
    }
}
