import Glibc
import Testing

@testable import QMPShell

/// `--record`: the file replays what succeeded, and nothing else.
@Suite(.timeLimit(.minutes(1))) struct ScriptRecorderTests {
    private func withRecording(_ body: (ScriptRecorder) throws -> Void) throws -> String {
        var template = Array("/tmp/qmp-shell-record.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        let directory = String(cString: try #require(made))
        defer { _ = system("rm -rf '\(directory)'") }
        let path = directory + "/session.qmp"
        do {
            let recorder = try ScriptRecorder(path: path, header: "recorded by a test")
            #expect(recorder.warning == nil)
            try body(recorder)
        }
        var status = stat()
        #expect(stat(path, &status) == 0 && status.st_mode & 0o777 == 0o600)
        let file = fopen(path, "r")
        defer { fclose(file) }
        var text = ""
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), file) != nil {
            text += String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return text
    }

    @Test func onlyLinesThatSucceededAreKept() throws {
        let text = try withRecording { recorder in
            recorder.note("query-status", outcome: .success, inTransaction: false)
            recorder.note("blockdev-del node-name=nope", outcome: .commandError("not found"), inTransaction: false)
            recorder.note("stop x=", outcome: .failed("parse error"), inTransaction: false)
            recorder.note(".help stop", outcome: .success, inTransaction: false)
            recorder.note("# a comment", outcome: .success, inTransaction: false)
            recorder.note("cont", outcome: .success, inTransaction: false)
        }
        #expect(text == "# recorded by a test\nquery-status\ncont\n")
    }

    @Test func aTransactionIsWrittenWholeOnceItSucceeds() throws {
        let text = try withRecording { recorder in
            recorder.note("transaction(", outcome: .success, inTransaction: true)
            recorder.note("block-dirty-bitmap-add node=d name=b", outcome: .success, inTransaction: true)
            recorder.note(")", outcome: .success, inTransaction: false)
            // One abandoned with Ctrl-C, and one that failed: neither is kept.
            recorder.note("transaction(", outcome: .success, inTransaction: true)
            recorder.dropTransaction()
            recorder.note("transaction(", outcome: .success, inTransaction: true)
            recorder.note(")", outcome: .commandError("bad"), inTransaction: false)
            recorder.note("stop", outcome: .success, inTransaction: false)
        }
        #expect(text == "# recorded by a test\ntransaction(\nblock-dirty-bitmap-add node=d name=b\n)\nstop\n")
    }
}
