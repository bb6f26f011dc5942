import Glibc
import QMP
import ShellSystem

/// Schemas kept on disk, one file per QEMU build, so that the next start does not fetch the
/// schema again: `$XDG_CACHE_HOME/qmp-shell/` (by default `~/.cache/qmp-shell/`).
///
/// A build is known by its version, package string and target (`query-target`): the package
/// string alone does not tell `qemu-system-x86_64` from `qemu-system-aarch64` of one package. A
/// package string ending in `-dirty` (a build from a modified git tree, whose schema can change
/// without any of these changing) is never cached.
///
/// Files are private (0700 directory, 0600 files) and written whole (a new file renamed over
/// the old). A cache that cannot be read, written or parsed is ignored: the schema is fetched.
/// So is a directory or file another user owns, or that group or others may write: anyone who
/// could write it could make the shell check lines against a schema of their own.
///
/// What the cache holds is only ever a guess (the key is what the server claims to be): the
/// ``SchemaStore`` confirms it against the server every session.
public struct SchemaCache: Sendable {
    /// What identifies one QEMU build's schema.
    public struct Key: Sendable, Hashable {
        public var version: String
        public var package: String
        public var target: String

        public init(version: String, package: String, target: String) {
            self.version = version
            self.package = package
            self.target = target
        }

        /// Whether a schema of this build may be cached at all.
        public var isCacheable: Bool { !package.trimmingWhitespace().hasSuffix("-dirty") }

        /// `schema-7.2.22-x86_64-1f2e3d4c5b6a7980.json`: readable parts, and a hash of the
        /// package string (which has spaces and any characters).
        var fileName: String {
            func safe(_ text: String) -> String {
                String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_") ? $0 : "-" })
            }
            return "schema-\(safe(version))-\(safe(target))-\(Self.fnv1a(package)).json"
        }

        static func fnv1a(_ text: String) -> String {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in text.utf8 {
                hash ^= UInt64(byte)
                hash &*= 0x100_0000_01b3
            }
            let digits = String(hash, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
    }

    /// The directory the files go in.
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// The cache in `$XDG_CACHE_HOME/qmp-shell`, or `$HOME/.cache/qmp-shell`; `nil` without either.
    public static func standard() -> SchemaCache? {
        // The XDG specification ignores relative paths.
        if let base = environmentValue("XDG_CACHE_HOME"), base.hasPrefix("/") {
            return SchemaCache(directory: base + "/qmp-shell")
        }
        if let home = environmentValue("HOME") { return SchemaCache(directory: home + "/.cache/qmp-shell") }
        return nil
    }

    /// The path of the file for `key`.
    public func path(for key: Key) -> String { directory + "/" + key.fileName }

    /// The schema stored for `key` (the `return` value of `query-qmp-schema`), or `nil` if there
    /// is none or it cannot be read.
    public func load(_ key: Key) -> JSONValue? {
        guard key.isCacheable, Self.isTrusted(directory), let bytes = Self.readFile(path(for: key)),
            let stored = try? JSONParser.parse(bytes), stored["qemu"]?.stringValue == key.version,
            stored["package"]?.stringValue == key.package, stored["target"]?.stringValue == key.target,
            let schema = stored["schema"], schema.arrayValue != nil
        else { return nil }
        return schema
    }

    /// Stores `schema` for `key`; returns whether it was written (a failure is not an error).
    @discardableResult
    public func save(_ schema: JSONValue, for key: Key) -> Bool {
        guard key.isCacheable, Self.makeDirectories(directory), Self.isTrusted(directory) else { return false }
        let stored: JSONValue = [
            "qemu": .string(key.version), "package": .string(key.package), "target": .string(key.target),
            "schema": schema,
        ]
        var bytes: [UInt8] = []
        stored.write(to: &bytes)
        bytes.append(UInt8(ascii: "\n"))
        return FileIO.replace(path(for: key), with: bytes) == nil
    }

    /// The event names in every schema of the cache, sorted and without repeats: what `--event`
    /// can name before any connection (the generated shell completions ask the binary for them).
    /// Empty without a readable cache.
    public func cachedEventNames() -> [String] {
        guard Self.isTrusted(directory), let stream = opendir(directory) else { return [] }
        defer { closedir(stream) }
        var names = Set<String>()
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasPrefix("schema-"), name.hasSuffix(".json"), let bytes = Self.readFile(directory + "/" + name),
                let stored = try? JSONParser.parse(bytes), let schema = stored["schema"],
                let model = try? QMPSchema(introspection: schema)
            else { continue }
            names.formUnion(model.eventNames)
        }
        return names.sorted()
    }

    /// Removes the file for `key` (its schema turned out not to be the server's, and the server's
    /// own cannot be used).
    public func remove(_ key: Key) {
        if Self.isTrusted(directory) { unlink(path(for: key)) }
    }

    // MARK: - Files

    /// Whether the file or directory `status` describes is the user's own and only the user's
    /// to write.
    private static func isPrivate(_ status: stat) -> Bool {
        status.st_uid == geteuid() && status.st_mode & (S_IWGRP | S_IWOTH) == 0
    }

    /// Whether `path` is a directory of the user's own that only the user can write.
    static func isTrusted(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR && isPrivate(status)
    }

    /// The bytes of the regular file at `path` if it is the user's own and only the user's to
    /// write (checked on the open file, so it cannot change in between).
    private static func readFile(_ path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG, isPrivate(status) else {
            return nil
        }
        return FileIO.readAll(descriptor)
    }

    /// `mkdir -p` with mode 0700 for what it creates.
    private static func makeDirectories(_ path: String) -> Bool {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST { return false }
        }
        return true
    }
}
