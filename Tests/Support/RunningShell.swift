import Foundation

/// The built `qmp-shell` running in the background, for tests that act while it runs: write to
/// its standard input a line at a time, wait for what it prints, then for its exit.
public final class RunningShell: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    private let lock = NSLock()
    private var output = Data()
    private var errors = Data()

    /// Starts `qmp-shell` with `arguments` (NO_COLOR set, and `environment` added); standard
    /// input is a pipe left open.
    public init(_ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: ShellBinary.path)
        process.arguments = arguments
        process.environment = ShellBinary.environment(adding: environment)
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = input
        for (pipe, isError) in [(stdout, false), (stderr, true)] {
            pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
                let data = handle.availableData
                guard let self, !data.isEmpty else {
                    handle.readabilityHandler = nil
                    return
                }
                self.lock.withLock {
                    if isError { self.errors.append(data) } else { self.output.append(data) }
                }
            }
        }
        try process.run()
    }

    /// Its process id, to signal it.
    public var pid: Int32 { process.processIdentifier }
    /// Whether it is still running.
    public var isRunning: Bool { process.isRunning }

    /// What it printed on standard output so far.
    public var standardOutput: String { lock.withLock { String(decoding: output, as: UTF8.self) } }
    /// What it printed on standard error so far.
    public var standardError: String { lock.withLock { String(decoding: errors, as: UTF8.self) } }

    /// Writes `text` to its standard input.
    public func write(_ text: String) {
        input.fileHandleForWriting.write(Data(text.utf8))
    }

    /// Closes its standard input (end of the script).
    public func closeInput() {
        try? input.fileHandleForWriting.close()
    }

    /// Waits until `condition` holds, polling every 10 ms, for at most `timeout` (or until the
    /// calling test is cancelled); throws if it never does.
    public func waitUntil(
        _ what: String, timeout: Duration = .seconds(20), _ condition: (RunningShell) -> Bool
    ) throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(self) {
            guard ContinuousClock.now < deadline, !Task.isCancelled else {
                throw FakeServerError(
                    "timed out waiting for \(what); output: \(standardOutput.suffix(500)) errors: \(standardError.suffix(500))"
                )
            }
            usleep(10_000)
        }
    }

    /// Waits for the exit and returns its status (killing it after `timeout`, then throwing).
    public func waitForExit(timeout: Duration = .seconds(20)) throws -> Int32 {
        do {
            try waitUntil("the exit", timeout: timeout) { !$0.process.isRunning }
        } catch {
            process.terminate()
            throw error
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { process.terminate() }
        try? input.fileHandleForWriting.close()
    }
}
