import Foundation
import QMPTestSupport
import QMPTestTraits
import Testing

/// A script's replies to a pipe go out in batches of at most 10 ms (one wake-up of the reader per
/// batch, not per reply): what a reader sees is the same, in the same order, and never late by
/// more than a batch.
@Suite("Batched script output", .timeLimit(.minutes(2)), .checksFakeServerScripts)
struct BatchedOutputTests {
    /// Standard output and standard error into one pipe: each line where it was written, the
    /// replies of the lines before a failure ahead of the failure's message.
    @Test func repliesComeBeforeALaterLinesErrorInOnePipe() throws {
        let qemu = try QEMUInstance()
        let pipeline = Process()
        pipeline.executableURL = URL(fileURLWithPath: "/bin/bash")
        pipeline.arguments = [
            "-c", #""$0" -c query-status -c query-name -c no-such-command "$1" 2>&1"#,
            ShellBinary.path, qemu.socketPath,
        ]
        let output = Pipe()
        pipeline.standardOutput = output
        try pipeline.run()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        pipeline.waitUntilExit()
        #expect(pipeline.terminationStatus == 1)
        let lines = printed.split(separator: "\n").map(String.init)
        try #require(lines.count == 4, "\(printed)")
        #expect(lines[0].contains(#""status":"running""#))
        #expect(lines[1] == #"{"return":{}}"#)
        #expect(lines[2].contains("CommandNotFound"))
        #expect(lines[3].hasPrefix("-c:3: CommandNotFound"))
    }

    /// A reply is written while the script goes on waiting (here `.sleep`), not held to the end.
    @Test func aReplyIsWrittenWhileTheScriptStillRuns() throws {
        let qemu = try QEMUInstance()
        let shell = try RunningShell(["-c", "query-status", "-c", ".sleep 8", qemu.socketPath])
        try shell.waitUntil("the reply during the .sleep", timeout: .seconds(5)) {
            $0.standardOutput.contains(#""status":"running""#)
        }
        #expect(try shell.waitForExit() == 0)
    }
}
