import Foundation
import QMP
import QMPTestSupport
import Synchronization
import Testing

@testable import QMPShell

/// The order in which the progress board changes the lines above the prompt and says a job's end,
/// against a real QEMU running a backup.
@Suite(.timeLimit(.minutes(2))) struct ProgressBoardTests {
    /// What the board asked for, in order: a status (the lines above the prompt) or an end.
    enum Drawn: Equatable {
        case status([String])
        case end(String)
    }

    @Test func aJobsEndIsSaidOnlyAfterItsLiveLineIsGone() async throws {
        let qemu = try QEMUInstance()
        defer { qemu.kill() }
        let source = try qemu.directory.filledFile("source.raw", megabytes: 2)
        let client = QMPClient()
        try await client.connect(to: .unix(path: qemu.socketPath))
        _ = try await client.execute(
            "blockdev-add", arguments: ["driver": "file", "node-name": "src", "filename": .string(source)])
        _ = try await client.execute(
            "blockdev-add", arguments: ["driver": "null-co", "node-name": "sink", "size": 2_097_152])
        // About 2 s at 1 MiB/s: the board's first look finds it running.
        _ = try await client.execute(
            "blockdev-backup",
            arguments: ["job-id": "bk", "device": "src", "target": "sink", "sync": "full", "speed": 1_048_576])
        let drawn = Mutex<[Drawn]>([])
        let board = ProgressBoard(
            link: ServerLink(client: client, listener: nil),
            showStatus: { lines in drawn.withLock { $0.append(.status(lines)) } },
            printLine: { line in drawn.withLock { $0.append(.end(line.endText)) } })
        let running = Task { await board.run() }
        let deadline = ContinuousClock.now + .seconds(30)
        while !drawn.withLock({ $0.contains(.end("bk backup: completed")) }) {
            try #require(ContinuousClock.now < deadline, "no end said: \(drawn.withLock { $0 })")
            try await Task.sleep(for: .milliseconds(50))
        }
        running.cancel()
        await client.disconnect()
        let history = drawn.withLock { $0 }
        let end = try #require(history.firstIndex(of: .end("bk backup: completed")))
        let live = history.firstIndex {
            if case .status(let lines) = $0 { return lines.contains { $0.hasPrefix("bk backup  [") } }
            return false
        }
        #expect(live != nil && live! < end, "the job's live line was never drawn: \(history)")
        // What was above the prompt when the end was said.
        let above = history[..<end].last { if case .status = $0 { true } else { false } }
        #expect(above == .status([]), "the end was said under the job's live line: \(history)")
    }
}
