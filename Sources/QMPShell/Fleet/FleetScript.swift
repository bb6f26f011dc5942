import ShellSystem

/// The lines a fleet runs on every target: the `-c` lines, then the `-f` file or standard input.
///
/// Each target reads its own copy of the lines at its own pace, so a script is read once, before
/// any target starts (a pipe cannot be read again), and held whole: at most ``maximumBytes``.
public struct FleetScript: Sendable {
    /// One source of lines, named as diagnostics name it (`-c`, `<stdin>`, the file's path).
    public struct Source: Sendable {
        public let name: String
        public let lines: [String]
        /// The file it came from, for `.source` cycles.
        public let file: String?
    }

    /// The most a fleet's script may hold, all sources together.
    public static let maximumBytes = 16 << 20

    public let sources: [Source]

    /// Reads `commands`, then `script` (`-` or `nil` without commands: standard input).
    public static func read(commands: [String], script: String?) async throws(ShellError) -> FleetScript {
        var sources: [Source] = []
        if !commands.isEmpty { sources.append(Source(name: "-c", lines: commands, file: nil)) }
        var total = commands.reduce(0) { $0 + $1.utf8.count }
        if script == "-" || (script == nil && commands.isEmpty) {
            sources.append(try await readAll(FileLineSource(descriptor: 0), name: "<stdin>", file: nil, total: &total))
        } else if let script {
            sources.append(try await readAll(FileLineSource(path: script), name: script, file: script, total: &total))
        }
        return FleetScript(sources: sources)
    }

    private static func readAll(_ source: FileLineSource, name: String, file: String?, total: inout Int)
        async throws(ShellError) -> Source
    {
        var lines: [String] = []
        while let line = try await source.nextLine() {
            total += line.utf8.count + 1
            if total > maximumBytes {
                throw ShellError("\(name): a script for several targets may hold at most 16 MiB")
            }
            lines.append(line)
        }
        return Source(name: name, lines: lines, file: file)
    }
}
