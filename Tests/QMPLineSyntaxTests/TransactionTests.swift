import QMP
import Testing
@testable import QMPLineSyntax

@Suite(.timeLimit(.minutes(1))) struct TransactionTests {
    static let twoBitmaps =
        #"{"execute":"transaction","arguments":{"actions":["#
        + #"{"type":"block-dirty-bitmap-add","data":{"node":"n0","name":"b0"}},"#
        + #"{"type":"block-dirty-bitmap-clear","data":{"node":"n0","name":"b1"}}]}}"#

    /// Each case: the lines fed in order, each line's expected outcome ("" for nothing yet, "!" for
    /// an error), and whether a transaction is still open afterwards.
    @Test(arguments: [
        (
            ["transaction( block-dirty-bitmap-add node=n0 name=b0 block-dirty-bitmap-clear node=n0 name=b1 )"],
            [twoBitmaps], false
        ),
        (
            ["transaction(", "block-dirty-bitmap-add node=n0 name=b0", ")"],
            [
                "", "",
                #"{"execute":"transaction","arguments":{"actions":[{"type":"block-dirty-bitmap-add","data":{"node":"n0","name":"b0"}}]}}"#,
            ],
            false
        ),
        (
            [
                "transaction(", "block-dirty-bitmap-add node=n0 name=b0", "block-dirty-bitmap-clear node=n0 name=b1",
                ")",
            ],
            ["", "", "", twoBitmaps], false
        ),
        (
            ["transaction( block-dirty-bitmap-add node=n0 name=b0", "block-dirty-bitmap-clear node=n0 name=b1 )"],
            ["", twoBitmaps], false
        ),
        // An action's data may continue on the next line, until the next bare word.
        (
            [
                "transaction( block-dirty-bitmap-add node=n0", "name=b0 block-dirty-bitmap-clear", "node=n0 name=b1",
                ")",
            ],
            ["", "", "", twoBitmaps], false
        ),
        (["transaction( )"], [#"{"execute":"transaction","arguments":{"actions":[]}}"#], false),
        (["transaction(", ")"], ["", #"{"execute":"transaction","arguments":{"actions":[]}}"#], false),
        // An action without members still sends "data": {}, which QEMU requires.
        (
            ["transaction( abort )"],
            [#"{"execute":"transaction","arguments":{"actions":[{"type":"abort","data":{}}]}}"#], false
        ),
        // Values follow the usual rules inside actions.
        (
            [
                #"transaction( blockdev-snapshot-sync device=d0 snapshot-file="/tmp/s 1.qcow2" format=qcow2 x.y=1 z=[1, 2] )"#
            ],
            [
                #"{"execute":"transaction","arguments":{"actions":[{"type":"blockdev-snapshot-sync","data":{"device":"d0","snapshot-file":"/tmp/s 1.qcow2","format":"qcow2","x":{"y":1},"z":[1,2]}}]}}"#
            ],
            false
        ),
        // Comments and blank lines inside are ignored.
        (
            ["transaction(", "# the bitmap", "", "abort", ")"],
            ["", "", "", "", #"{"execute":"transaction","arguments":{"actions":[{"type":"abort","data":{}}]}}"#],
            false
        ),
        (["transaction(", "abort"], ["", ""], true),
        // An error drops only its line: the actions before and after it stay.
        (
            ["transaction(", "a x=1", #"b y="unterminated"#, "c z=3", ")"],
            [
                "", "", "!column 5: unterminated quote in value of 'y'", "",
                #"{"execute":"transaction","arguments":{"actions":[{"type":"a","data":{"x":1}},{"type":"c","data":{"z":3}}]}}"#,
            ],
            false
        ),
        (
            ["transaction( a x=1", "x=2 b", ")"],
            [
                "", "!column 1: key 'x' given twice",
                #"{"execute":"transaction","arguments":{"actions":[{"type":"a","data":{"x":1}}]}}"#,
            ],
            false
        ),
        (
            ["transaction(", ".wait JOB", "abort )"],
            [
                "", "!column 1: directive '.wait' inside a transaction; close it with ')' first",
                #"{"execute":"transaction","arguments":{"actions":[{"type":"abort","data":{}}]}}"#,
            ],
            false
        ),
        (
            ["transaction(", #"{"execute": "stop"}"#],
            ["", "!column 1: raw JSON message inside a transaction; close it with ')' first"], true
        ),
        (
            ["transaction(", "a transaction( b"],
            ["", "!column 3: 'transaction(' inside an open transaction; transactions do not nest"], true
        ),
        // A failing opening line opens nothing.
        (["transaction( x=1"], ["!column 14: expected an action name before 'x=1'"], false),
        (["transaction( abort ) stop"], ["!column 22: unexpected 'stop' after the ')' closing the transaction"], false),
        (["transaction(", ") x"], ["", "!column 3: unexpected 'x' after the ')' closing the transaction"], true),
        // A quoted ")" is an action name, not the end.
        (["transaction( \")\""], [""], true),
        // After the transaction, lines are commands again.
        (
            ["transaction( )", ")", "stop"],
            [
                #"{"execute":"transaction","arguments":{"actions":[]}}"#,
                "!column 1: ')' without an open 'transaction('",
                #"{"execute":"stop"}"#,
            ],
            false
        ),
    ])
    func transaction(lines: [String], expected: [String], stillOpen: Bool) {
        var parser = LineParser()
        #expect(outcomes(of: lines, parser: &parser) == expected)
        #expect(parser.isInTransaction == stillOpen)
    }

    @Test func resetDropsAHalfBuiltTransaction() throws {
        var parser = LineParser()
        #expect(try parser.parse("transaction( abort").isEmpty)
        #expect(parser.isInTransaction)
        parser.reset()
        #expect(!parser.isInTransaction)
        #expect(render(try parser.parse("stop")) == #"{"execute":"stop"}"#)
        #expect(throws: LineParseError(column: 1, message: "')' without an open 'transaction('")) {
            try parser.parse(")")
        }
    }
}
