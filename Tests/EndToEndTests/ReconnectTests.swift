import Foundation
import QMP
import QMPTestSupport
import QMPTestTraits
import Testing

/// `--reconnect`: a server that is not there yet, or goes away and comes back on the same path.
@Suite("Reconnecting to real QEMU", .serialized, .timeLimit(.minutes(2)), .checksFakeServerScripts)
struct ReconnectTests {
    @Test func theInteractiveShellReconnectsAndSaysWhichQEMUItReached() throws {
        let vm = try RestartableQEMU()
        let path = vm.socketPath
        let home = try TemporaryDirectory(prefix: "qmp-home")
        let terminal = try PseudoTerminalSession(
            executable: ShellBinary.path, arguments: ["--reconnect", "--retry-delay", "0.2", path],
            environment: ["HOME": home.path, "NO_COLOR": "1"])
        try terminal.waitForText("(QEMU) ")
        vm.kill()
        try terminal.waitForText("reconnecting to \(path)")
        // A command while disconnected fails at once, clearly.
        terminal.send("query-status\r")
        try terminal.waitForText("not connected: reconnecting to \(path)")
        let second = try vm.restart()
        try terminal.waitForText("reconnected to QEMU \(try QEMUInstance.installedVersion()) at \(path)")
        terminal.send("query-status\r")
        try terminal.waitForText(#""status":"running""#)
        // Events of the new connection are shown too.
        try awaitControl { try await second.controlExecute("stop") }
        try terminal.waitForScreen { $0.lines.contains { $0.hasSuffix(" STOP") } }
        terminal.send("\u{4}")
        #expect(try terminal.waitForExit() == 0)
    }

    @Test func scriptsWaitForTheServerToAppear() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("late.sock")
        let running = Task.detached {
            try ShellBinary.run(["--reconnect", "--retry-delay", "0.1", "-c", "query-status", path])
        }
        try await Task.sleep(for: .milliseconds(500))
        let qemu = try QEMUInstance(socketPath: path)
        let result = try await running.value
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.lines.first?.contains(#""status":"running""#) == true)
        #expect(result.standardError.contains("retrying every 0.1 s"), "\(result.standardError)")
        _ = qemu
    }

    @Test func retriesRunOutWithExitThree() throws {
        let directory = try TemporaryDirectory()
        let result = try ShellBinary.run([
            "--reconnect", "--retry-delay", "0.05", "--retries", "3", "-c", "query-status",
            directory.file("never.sock"),
        ])
        #expect(result.status == 3)
        #expect(result.standardError.hasSuffix("No such file or directory\n"), "\(result.standardError)")
    }

    @Test(.timeLimit(.minutes(2))) func watchFollowsTheVMAcrossARestart() async throws {
        let vm = try RestartableQEMU()
        let path = vm.socketPath
        let home = try TemporaryDirectory(prefix: "qmp-home")
        let terminal = try PseudoTerminalSession(
            executable: ShellBinary.path, arguments: ["--watch", "--reconnect", "--retry-delay", "0.1", path],
            environment: ["HOME": home.path, "NO_COLOR": "1"])
        /// Whether a STOP line is on screen below the last line containing `text` (or anywhere).
        func stopShown(after text: String?) -> (TerminalScreen) -> Bool {
            { screen in
                let lines = screen.lines
                let start = text.flatMap { text in lines.lastIndex { $0.contains(text) } } ?? -1
                return lines.indices.contains { $0 > start && lines[$0].hasSuffix(" STOP") }
            }
        }
        // The watcher may connect after the first round: stop and resume until it shows a STOP.
        try await stopAndResume(try #require(vm.current), until: stopShown(after: nil), on: terminal)
        vm.kill()
        try terminal.waitForText("reconnecting to \(path)")
        let second = try vm.restart()
        try terminal.waitForText("reconnected to QEMU \(try QEMUInstance.installedVersion()) at \(path)")
        // Events of the new QEMU are shown, below the notice.
        try await stopAndResume(second, until: stopShown(after: "reconnected to QEMU"), on: terminal)
        terminal.terminate()
    }

    /// `--timeout` spans the reconnection too: a watch whose server is gone ends at the timeout,
    /// short of its count (exit 1), instead of retrying on.
    @Test func watchTimeoutEndsTheReconnection() async throws {
        let vm = try RestartableQEMU()
        let qemu = try #require(vm.current)
        let shell = try RunningShell([
            "--watch", "--count", "100", "--timeout", "10", "--reconnect", "--retry-delay", "0.1", vm.socketPath,
        ])
        // Connected once it shows an event.
        for _ in 0..<100 where !shell.standardOutput.contains("RESUME") {
            try await qemu.controlExecute("stop")
            try await qemu.controlExecute("cont")
            try await Task.sleep(for: .milliseconds(100))
        }
        vm.kill()
        try shell.waitUntil("the reconnecting notice") { $0.standardError.contains("reconnecting to \(vm.socketPath)") }
        #expect(try shell.waitForExit(timeout: .seconds(20)) == 1, "\(shell.standardError)")
        #expect(!shell.standardError.contains("gave up"), "\(shell.standardError)")
    }

    /// Stops and resumes `qemu` until the screen satisfies `condition` (50 rounds at most).
    private func stopAndResume(
        _ qemu: QEMUInstance, until condition: @escaping (TerminalScreen) -> Bool, on terminal: PseudoTerminalSession
    ) async throws {
        for _ in 0..<50 {
            try await qemu.controlExecute("stop")
            try await qemu.controlExecute("cont")
            if (try? terminal.waitForScreen(timeout: .milliseconds(300), condition)) != nil { return }
        }
        try terminal.waitForScreen(timeout: .seconds(1), condition)
    }

    /// Runs async work from a synchronous test.
    private func awaitControl(_ body: @escaping @Sendable () async throws -> Void) throws {
        let done = DispatchSemaphore(value: 0)
        let failure = Mutex<(any Error)?>(nil)
        Task.detached {
            do { try await body() } catch { failure.withLock { $0 = error } }
            done.signal()
        }
        done.wait()
        if let error = failure.withLock({ $0 }) { throw error }
    }
}

import Synchronization
