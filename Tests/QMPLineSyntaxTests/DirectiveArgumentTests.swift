import QMP
import Testing
@testable import QMPLineSyntax

@Suite(.timeLimit(.minutes(1))) struct DirectiveArgumentTests {
    @Test(arguments: [
        (
            "JOB_STATUS_CHANGE id=j0 status=concluded timeout=5", ["JOB_STATUS_CHANGE"],
            #"{"id":"j0","status":"concluded","timeout":5}"#
        ),
        (
            "BLOCK_JOB_COMPLETED device.id=d0 offset=1024", ["BLOCK_JOB_COMPLETED"],
            #"{"device":{"id":"d0"},"offset":1024}"#
        ),
        (#"fd0 "/tmp/my file" opaque='x y'"#, ["fd0", "/tmp/my file"], #"{"opaque":"x y"}"#),
        ("", [], "{}"),
        ("1.5", ["1.5"], "{}"),
    ])
    func arguments(text: String, words: [String], expected: String) throws {
        let parsed = try LineParser.parseArguments(text, directive: "wait")
        #expect(parsed.words == words)
        #expect(JSONValue.object(parsed.arguments).serialized() == expected)
    }

    @Test(arguments: [
        (#"EVENT id="x"#, 1, "column 10: unterminated quote in value of 'id'"),
        (#"EVENT id="x"#, 7, "column 16: unterminated quote in value of 'id'"),
        ("EVENT id=1 id=2", 7, "column 18: key 'id' given twice"),
    ])
    func errorColumns(text: String, startColumn: Int, expected: String) {
        #expect(throws: (any Error).self) {
            try LineParser.parseArguments(text, directive: "wait", startColumn: startColumn)
        }
        do {
            _ = try LineParser.parseArguments(text, directive: "wait", startColumn: startColumn)
        } catch {
            #expect(error.description == expected)
        }
    }
}
