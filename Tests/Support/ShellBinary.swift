import Foundation

/// The built `qmp-shell`, run as a user would, for end-to-end tests.
public enum ShellBinary {
    /// `$QMP_SHELL_BINARY`, or `qmp-shell` next to the running test bundle (same build folder).
    public static var path: String {
        if let override = ProcessInfo.processInfo.environment["QMP_SHELL_BINARY"] { return override }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        // The test runner may sit inside a .xctest bundle folder.
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("qmp-shell").path),
            directory.path != "/"
        {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("qmp-shell").path
    }

    /// The tests' environment for the shell: this process's, with NO_COLOR set (output is
    /// compared as text) and `variables` added over it.
    public static func environment(adding variables: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        for (key, value) in variables { environment[key] = value }
        return environment
    }

    /// What a run printed and how it ended.
    public struct Result: Sendable {
        /// The exit status; -1 if the run was killed for taking too long.
        public let status: Int32
        /// Whether the process died of a signal (a crash), rather than exiting.
        public var crashed = false
        public let standardOutput: String
        public let standardError: String

        /// Standard output's lines.
        public var lines: [String] {
            standardOutput.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        }
    }

    /// Runs `qmp-shell` with `arguments`, feeding `input` (or nothing) on standard input, and waits
    /// for it (killing it after `timeout`, or when the calling test's task is cancelled at its time
    /// limit, which then fails the run with status -1).
    ///
    /// The default `timeout`: a run takes well under a second on a quiet machine and a few seconds
    /// on two cores busy with other builds; 20 s fails a hang fast without failing a slow machine.
    public static func run(
        _ arguments: [String], input: String? = nil, environment: [String: String] = [:],
        timeout: Duration = .seconds(20), discardingOutput: Bool = false, executable: String? = nil
    ) throws -> Result {
        let process = Process()
        // `executable` runs the shell itself (say setpriv, as another user), given in `arguments`.
        process.executableURL = URL(fileURLWithPath: executable ?? path)
        process.arguments = arguments
        process.environment = Self.environment(adding: environment)
        let stdout = Pipe()
        let stderr = Pipe()
        let stdin = Pipe()
        // Standard output to /dev/null, for runs that print more than a test should hold.
        process.standardOutput = discardingOutput ? FileHandle(forWritingAtPath: "/dev/null") : stdout
        if discardingOutput { try? stdout.fileHandleForWriting.close() }
        process.standardError = stderr
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try? stdin.fileHandleForWriting.close()
        // Read both pipes while the process runs, so a large output never blocks it.
        let outputs = Outputs()
        let group = DispatchGroup()
        for (pipe, isError) in [(stdout, false), (stderr, true)] {
            group.enter()
            DispatchQueue.global().async {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                outputs.set(data, isError: isError)
                group.leave()
            }
        }
        let deadline = ContinuousClock.now + timeout
        // Waits in slices, so a test cancelled at its time limit stops waiting within one.
        while group.wait(timeout: .now() + 0.1) == .timedOut {
            let cancelled = Task.isCancelled
            guard cancelled || ContinuousClock.now >= deadline else { continue }
            process.terminate()
            group.wait()
            process.waitUntilExit()
            let reason = cancelled ? "the test was cancelled" : "\(timeout)"
            return Result(
                status: -1, standardOutput: outputs.output, standardError: outputs.error + "\n[killed after \(reason)]")
        }
        process.waitUntilExit()
        var result = Result(
            status: process.terminationStatus, standardOutput: outputs.output, standardError: outputs.error)
        result.crashed = process.terminationReason == .uncaughtSignal
        return result
    }

    private final class Outputs: @unchecked Sendable {
        private let lock = NSLock()
        private var outputData = Data()
        private var errorData = Data()

        func set(_ data: Data, isError: Bool) {
            lock.withLock {
                if isError { errorData = data } else { outputData = data }
            }
        }

        var output: String { lock.withLock { String(decoding: outputData, as: UTF8.self) } }
        var error: String { lock.withLock { String(decoding: errorData, as: UTF8.self) } }
    }
}
