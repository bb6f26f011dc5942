import QMP
import QMPTestSupport
import QMPTestTraits
import Testing

/// `.job` when QEMU sends a job's last events before the `query-jobs` reply that still says it
/// runs: QEMU reads the state, then the job ends in the main loop before the answering coroutine
/// resumes (about one run in sixty with a job of a megabyte; a fake server sends it every time).
@Suite(".job and the order of QEMU's messages", .timeLimit(.minutes(2)), .checksFakeServerScripts)
struct JobEventOrderTests {
    static func statusChange(_ status: String) -> String {
        #"{"timestamp": {"seconds": 1, "microseconds": 0}, "event": "JOB_STATUS_CHANGE", "data": {"status": ""#
            + status + #"", "id": "j0"}}"# + "\r\n"
    }

    @Test func aJobThatEndsBeforeTheReplySayingItRunsIsSeenToEnd() throws {
        let server = try FakeQMPServer { connection in
            try connection.handshake()
            var asked = 0
            while let message = connection.readMessage(timeout: .seconds(20)) {
                switch message["execute"]?.stringValue {
                case "query-jobs": break
                case "job-finalize":
                    // As QEMU refuses it: the job finalized itself.
                    connection.replyError(
                        to: message, description: "Job 'j0' in state 'concluded' cannot accept command verb 'finalize'")
                    continue
                default:
                    connection.replyError(to: message, errorClass: "CommandNotFound", description: "not expected")
                    continue
                }
                asked += 1
                if asked == 1 {
                    connection.send(["waiting", "pending", "concluded"].map(Self.statusChange).joined())
                }
                let status: JSONValue = asked == 1 ? "running" : "concluded"
                connection.reply(
                    to: message,
                    with: [
                        ["id": "j0", "type": "backup", "status": status, "current-progress": 1, "total-progress": 1]
                    ])
            }
        }
        let result = try ShellBinary.run(["-c", ".job j0 dismiss=off timeout=5", server.path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(!result.standardError.contains("still running"), "\(result.standardError)")
    }
}
