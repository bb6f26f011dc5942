import Foundation
import QMP
import QMPLineSyntax
import QMPTestSupport
import Testing
@testable import QMPSchema

/// The schema cache: one private file per QEMU build; anything wrong with it means "fetch".
@Suite(.timeLimit(.minutes(1))) struct SchemaCacheTests {
    let key = SchemaCache.Key(version: "7.2.22", package: "Debian 1:7.2+dfsg-7", target: "x86_64")
    let schema: JSONValue = [["name": "0", "meta-type": "object", "members": []]]

    @Test func aSavedSchemaLoadsBackFromAPrivateFile() throws {
        let home = try TemporaryDirectory()
        let cache = SchemaCache(directory: home.file("cache/qmp-shell"))
        #expect(cache.load(key) == nil)
        #expect(cache.save(schema, for: key))
        #expect(cache.load(key) == schema)
        let path = cache.path(for: key)
        #expect(path.hasPrefix(home.file("cache/qmp-shell/schema-7.2.22-x86_64-")))
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        #expect(try FileManager.default.attributesOfItem(atPath: cache.directory)[.posixPermissions] as? Int == 0o700)
        // Another build of the same version is another file.
        for other in [
            SchemaCache.Key(version: "7.2.22", package: "Debian 1:7.2+dfsg-8", target: "x86_64"),
            SchemaCache.Key(version: "7.2.22", package: "Debian 1:7.2+dfsg-7", target: "aarch64"),
            SchemaCache.Key(version: "8.0.0", package: "Debian 1:7.2+dfsg-7", target: "x86_64"),
        ] {
            #expect(cache.load(other) == nil)
        }
    }

    @Test(arguments: ["", "not json", #"{"qemu": "7.2.22"}"#, #"[1, 2]"#])
    func aCorruptFileIsNoSchema(contents: String) throws {
        let home = try TemporaryDirectory()
        let cache = SchemaCache(directory: home.path)
        try contents.write(toFile: cache.path(for: key), atomically: true, encoding: .utf8)
        #expect(cache.load(key) == nil)
        // Saving again repairs it.
        #expect(cache.save(schema, for: key))
        #expect(cache.load(key) == schema)
    }

    @Test func aFileForAnotherBuildUnderTheSameNameIsNoSchema() throws {
        let home = try TemporaryDirectory()
        let cache = SchemaCache(directory: home.path)
        let stored: JSONValue = ["qemu": "7.2.22", "package": "something else", "target": "x86_64", "schema": schema]
        try stored.serialized().write(toFile: cache.path(for: key), atomically: true, encoding: .utf8)
        #expect(cache.load(key) == nil)
    }

    @Test func aCacheThatCannotBeWrittenIsSkipped() throws {
        let home = try TemporaryDirectory()
        #expect(FileManager.default.createFile(atPath: home.file("file"), contents: nil))
        let cache = SchemaCache(directory: home.file("file/qmp-shell"))
        #expect(!cache.save(schema, for: key))
        #expect(cache.load(key) == nil)
    }

    /// Whoever can write the cache decides what the shell checks lines against: only the user's
    /// own files in the user's own directory, writable by nobody else, are read.
    @Test(
        .enabled(if: geteuid() == 0, "chown needs root"),
        arguments: [
            "file owned by nobody", "group-writable file", "world-writable file", "directory owned by nobody",
            "world-writable directory", "symbolic link",
        ])
    func aCacheFileOthersCouldHaveWrittenIsIgnored(kind: String) throws {
        let home = try TemporaryDirectory()
        let cache = SchemaCache(directory: home.file("qmp-shell"))
        #expect(cache.save(schema, for: key))
        #expect(cache.load(key) == schema)
        let file = cache.path(for: key)
        let nobody: uid_t = 65534
        switch kind {
        case "file owned by nobody": #expect(chown(file, nobody, nobody) == 0)
        case "group-writable file": #expect(chmod(file, 0o620) == 0)
        case "world-writable file": #expect(chmod(file, 0o602) == 0)
        case "directory owned by nobody": #expect(chown(cache.directory, nobody, nobody) == 0)
        case "world-writable directory": #expect(chmod(cache.directory, 0o777) == 0)
        default:
            #expect(rename(file, home.file("elsewhere.json")) == 0)
            #expect(symlink(home.file("elsewhere.json"), file) == 0)
        }
        #expect(cache.load(key) == nil, "\(kind)")
    }

    @Test func aBuildFromAModifiedGitTreeIsNeverCached() throws {
        let home = try TemporaryDirectory()
        let cache = SchemaCache(directory: home.path)
        let dirty = SchemaCache.Key(version: "9.0.50", package: "v9.0.0-1234-gabcdef-dirty", target: "x86_64")
        #expect(!dirty.isCacheable)
        #expect(!cache.save(schema, for: dirty))
        #expect(try FileManager.default.contentsOfDirectory(atPath: home.path).isEmpty)
    }
}
