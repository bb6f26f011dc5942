import QMP
import Testing

@testable import QMPLineSyntax
@testable import QMPShell

@Suite(.timeLimit(.minutes(1))) struct CommandLineTests {
    @Test(arguments: [
        // Plain commands; whitespace around and between tokens does not matter.
        ("query-status", #"{"execute":"query-status"}"#),
        ("   query-status   ", #"{"execute":"query-status"}"#),
        ("query-block\t", #"{"execute":"query-block"}"#),
        (#""query-status""#, #"{"execute":"query-status"}"#),
        ("stop # pause the guest", #"{"execute":"stop"}"#),
        ("cont\r", #"{"execute":"cont"}"#),
        // The peer keeps the quotes in the value; we remove them.
        (
            #"human-monitor-command command-line="info version""#,
            #"{"execute":"human-monitor-command","arguments":{"command-line":"info version"}}"#
        ),
        (
            "human-monitor-command command-line='info block'",
            #"{"execute":"human-monitor-command","arguments":{"command-line":"info block"}}"#
        ),
        // The peer sends the string "null".
        (
            "blockdev-add driver=qcow2 node-name=n1 file=f1 backing=null",
            #"{"execute":"blockdev-add","arguments":{"driver":"qcow2","node-name":"n1","file":"f1","backing":null}}"#
        ),
        // The peer puts c inside a.
        ("x a.b=1 c=2", #"{"execute":"x","arguments":{"a":{"b":1},"c":2}}"#),
        (
            "blockdev-add node-name=disk driver=qcow2 file.driver=file file.filename=/tmp/a.qcow2 read-only=true",
            #"{"execute":"blockdev-add","arguments":{"node-name":"disk","driver":"qcow2","file":{"driver":"file","filename":"/tmp/a.qcow2"},"read-only":true}}"#
        ),
        ("x a.b.c=1 a.b.d=2 a.e=3 f=4", #"{"execute":"x","arguments":{"a":{"b":{"c":1,"d":2},"e":3},"f":4}}"#),
        ("x a.b=1 z=0 a.c=2", #"{"execute":"x","arguments":{"a":{"b":1,"c":2},"z":0}}"#),
        // Only unquoted dots nest, so vendor names with dots can be written.
        (
            #"x "__com.redhat_x"=1 a."b.c".d=2"#,
            #"{"execute":"x","arguments":{"__com.redhat_x":1,"a":{"b.c":{"d":2}}}}"#
        ),
        ("__org.qemu_x-command a=1", #"{"execute":"__org.qemu_x-command","arguments":{"a":1}}"#),
        // A value starting with { or [ runs to its closing bracket, spaces included.
        (
            #"blockdev-create job-id=j0 options={"driver": "qcow2", "size": 1048576}"#,
            #"{"execute":"blockdev-create","arguments":{"job-id":"j0","options":{"driver":"qcow2","size":1048576}}}"#
        ),
        (
            #"x o={"a": "b]c}", "d": [1, [2, 3]]} e=1"#,
            #"{"execute":"x","arguments":{"o":{"a":"b]c}","d":[1,[2,3]]},"e":1}}"#
        ),
        (#"x o={"a": "quote \" and ] inside"}"#, #"{"execute":"x","arguments":{"o":{"a":"quote \" and ] inside"}}}"#),
        ("x l=[1, 2, 3] m=[] o={}", #"{"execute":"x","arguments":{"l":[1,2,3],"m":[],"o":{}}}"#),
        (#"x l=[{"a": 18446744073709551615}]"#, #"{"execute":"x","arguments":{"l":[{"a":18446744073709551615}]}}"#),
        // JSON values that are not objects or arrays are not bracketed: they are typed by the word rules.
        // Python literals.
        (
            "x o={'driver': 'qcow2', 'discard': True, 'x': None,}",
            #"{"execute":"x","arguments":{"o":{"driver":"qcow2","discard":true,"x":null}}}"#
        ),
        ("x o={'a': ']'} l=[(1, 2), (3,)]", #"{"execute":"x","arguments":{"o":{"a":"]"},"l":[[1,2],[3]]}}"#),
        (
            "x o={'discard': true, 'backing': null}",
            #"{"execute":"x","arguments":{"o":{"discard":true,"backing":null}}}"#
        ),
        // Plain commands named transaction still work.
        ("transaction actions=[]", #"{"execute":"transaction","arguments":{"actions":[]}}"#),
        ("x s=héllo wörld=ü", #"{"execute":"x","arguments":{"s":"héllo","wörld":"ü"}}"#),
        ("x a=b#c", #"{"execute":"x","arguments":{"a":"b#c"}}"#),
        ("x a=1 # b=2", #"{"execute":"x","arguments":{"a":1}}"#),
    ])
    func command(line: String, expected: String) {
        #expect(outcome(of: line) == expected)
    }

    @Test(arguments: [
        // Quoted → string, whatever it looks like.
        (#"x s="7""#, #"{"s":"7"}"#),
        ("x s='true'", #"{"s":"true"}"#),
        (#"x s="null""#, #"{"s":"null"}"#),
        (#"x s="[1]""#, #"{"s":"[1]"}"#),
        (#"x s="""#, #"{"s":""}"#),
        ("x s=", #"{"s":""}"#),
        (#"x s="a=b""#, #"{"s":"a=b"}"#),
        ("x s=a=b", #"{"s":"a=b"}"#),
        (#"x s=/tmp/"my file".img"#, #"{"s":"/tmp/my file.img"}"#),
        (#"x s="a \"q\" b""#, #"{"s":"a \"q\" b"}"#),
        (#"x s="tab\there\nline""#, #"{"s":"tab\there\nline"}"#),
        (#"x s="back\\slash""#, #"{"s":"back\\slash"}"#),
        (#"x s="a\d+""#, #"{"s":"a\\d+"}"#),
        (#"x s='it\'s'"#, #"{"s":"it's"}"#),
        (#"x s='a\nb\\c'"#, #"{"s":"a\\nb\\c"}"#),
        (#"x s="it's""#, #"{"s":"it's"}"#),
        (#"x s='say "hi"'"#, #"{"s":"say \"hi\""}"#),
        (#"x s=a\b"#, #"{"s":"a\\b"}"#),
        // Booleans in any case; null only as written.
        ("x a=true b=FALSE c=True d=fAlSe", #"{"a":true,"b":false,"c":true,"d":false}"#),
        ("x a=null b=NULL c=None d=nil", #"{"a":null,"b":"NULL","c":"None","d":"nil"}"#),
        // Integers, kept exactly; leading zeros and + dropped as Python's int() does.
        ("x n=0 m=-7 o=42", #"{"n":0,"m":-7,"o":42}"#),
        ("x n=18446744073709551615", #"{"n":18446744073709551615}"#),
        ("x n=-9223372036854775808", #"{"n":-9223372036854775808}"#),
        ("x n=123456789012345678901234567890", #"{"n":123456789012345678901234567890}"#),
        ("x n=007 m=+5 o=-00", #"{"n":7,"m":5,"o":-0}"#),
        ("x n=0x1000 m=0XfF o=-0x10", #"{"n":4096,"m":255,"o":-16}"#),
        ("x n=0xFFFFFFFFFFFFFFFF", #"{"n":18446744073709551615}"#),
        // Decimals with a fraction or an exponent.
        ("x a=1.5 b=-0.25 c=2e9 d=1E-3 e=-1.5e+3", #"{"a":1.5,"b":-0.25,"c":2e9,"d":1E-3,"e":-1.5e+3}"#),
        ("x a=.5 b=5. c=-.5 d=00.5", #"{"a":0.5,"b":5.0,"c":-0.5,"d":0.5}"#),
        // Everything else is a string.
        (
            "x a=1.2.3 b=10.0.0.1 c=0x d=1e e=- f=inf g=nan h=1_000 i=0x1G j=0x10000000000000000",
            #"{"a":"1.2.3","b":"10.0.0.1","c":"0x","d":"1e","e":"-","f":"inf","g":"nan","h":"1_000","i":"0x1G","j":"0x10000000000000000"}"#
        ),
        ("x a=on b=yes c=off", #"{"a":"on","b":"yes","c":"off"}"#),
        ("x a=/dev/null b=unix:/tmp/qmp.sock", #"{"a":"/dev/null","b":"unix:/tmp/qmp.sock"}"#),
    ])
    func valueTyping(line: String, expectedArguments: String) {
        #expect(outcome(of: line) == #"{"execute":"x","arguments":"# + expectedArguments + "}")
    }

    @Test(arguments: [
        (#"{"execute": "query-status", "id": 1}"#, #"{"execute":"query-status","id":1}"#),
        (
            #"  {"execute":"x","arguments":{"b":1,"a":18446744073709551615}}"#,
            #"{"execute":"x","arguments":{"b":1,"a":18446744073709551615}}"#
        ),
        // Sent as written, even if QEMU will refuse it.
        (#"{"foo": "bar"}"#, #"{"foo":"bar"}"#),
        // Single-quoted strings, as QEMU's parser takes them and its documentation writes them,
        // are sent as standard JSON.
        (
            #"{"execute": "calc-dirty-rate", "arguments": {"calc-time": 1, 'sample-pages': 512}}"#,
            #"{"execute":"calc-dirty-rate","arguments":{"calc-time":1,"sample-pages":512}}"#
        ),
        (
            #"{'execute': 'x', 'arguments': {'a': 'it\'s "q"', "b": "\'"}}"#,
            #"{"execute":"x","arguments":{"a":"it's \"q\"","b":"'"}}"#
        ),
    ])
    func rawMessage(line: String, expected: String) {
        #expect(outcome(of: line) == expected)
    }

    @Test(arguments: ["", "   ", "\t", "# a comment", "   # an indented comment", "#no space"])
    func nothingToSend(line: String) {
        #expect(outcome(of: line) == "")
    }

    @Test(arguments: [
        (".wait JOB_STATUS_CHANGE id=j0 status=concluded", ".wait [JOB_STATUS_CHANGE id=j0 status=concluded]"),
        (".quit", ".quit []"),
        ("  .sleep   1.5  ", ".sleep [1.5]"),
        (#".add-fd /tmp/f opaque="x  y""#, #".add-fd [/tmp/f opaque="x  y"]"#),
        (".echo hello   world", ".echo [hello   world]"),
        (".help2 query-status", ".help2 [query-status]"),
    ])
    func directive(line: String, expected: String) {
        #expect(outcome(of: line) == expected)
    }
}

@Suite(.timeLimit(.minutes(1))) struct ErrorTests {
    @Test(arguments: [
        // Unterminated quotes, at the opening quote.
        (#"blockdev-add filename="abc"#, #"column 23: unterminated quote in value of 'filename'"#),
        (#"x s="abc\""#, #"column 5: unterminated quote in value of 's'"#),
        ("x s='abc", "column 5: unterminated quote in value of 's'"),
        (#"x "abc def"#, #"column 3: unterminated quote in '"abc def'"#),
        (#""query-status"#, #"column 1: unterminated quote in '"query-status'"#),
        // Unbalanced brackets.
        ("x a=[1, 2", "column 5: unbalanced '[' in value of 'a'"),
        (#"x a={"b": [1, 2]"#, "column 5: unbalanced '{' in value of 'a'"),
        (#"x a={"b": [1}"#, "column 13: mismatched '}' in value of 'a' (expected ']')"),
        (#"x a=["b]"#, "column 6: unterminated quote in value of 'a'"),
        ("x a=[1]x b=2", "column 8: unexpected 'x' after the closing ']' in value of 'a'"),
        // Keys.
        ("x =5", "column 3: empty key in '=5'"),
        ("x a=1 =", "column 7: empty key in '='"),
        ("x a..b=1", "column 3: invalid key 'a..b': empty name between dots"),
        ("x a.=1", "column 3: invalid key 'a.': empty name between dots"),
        ("x .a=1", "column 3: invalid key '.a': empty name between dots"),
        ("x a=1 a=2", "column 7: key 'a' given twice"),
        ("x a.b=1 c=3 a.b=2", "column 13: key 'a.b' given twice"),
        ("x a=1 a.b=2", "column 7: key 'a' used both as a value and as an object"),
        ("x a.b=2 a=1", "column 9: key 'a' used both as a value and as an object"),
        ("x a.b=1 a.b.c=2", "column 9: key 'a.b' used both as a value and as an object"),
        (#"x a={"b":1} a.c=2"#, "column 13: key 'a' used both as a value and as an object"),
        // Bad JSON or Python values: the column points into the value.
        (#"x a={"b": tru}"#, "column 11: invalid value for 'a': expected 'true'"),
        ("x a={'b': tru}", "column 11: invalid value for 'a': unknown name 'tru'"),
        ("x a=[1 2]", "column 8: invalid value for 'a': expected ',' or ']', found '2'"),
        ("x a={1, 2}", "column 6: invalid value for 'a': expected a member name in quotes, found '1'"),
        ("x opts.list=[1,,2]", "column 16: invalid value for 'opts.list': expected a value, found ','"),
        ("x é=[ü x]", "column 6: invalid value for 'é': expected a value, found byte 0xC3"),
        // Tokens out of place.
        (")", "column 1: ')' without an open 'transaction('"),
        ("  ) x=1", "column 3: ')' without an open 'transaction('"),
        ("x foo", "column 3: expected key=value, found 'foo'"),
        (#"x a=1 "foo bar""#, #"column 7: expected key=value, found '"foo bar"'"#),
        ("a=1 b=2", "column 1: expected a command name, found 'a=1'"),
        (#""quoted-key"=1"#, #"column 1: expected a command name, found '"quoted-key"=1'"#),
        ("x a=[[1, 2], [3, 4", "column 14: unbalanced '[' in value of 'a'"),
        // Raw JSON.
        (#"{"execute": }"#, "column 13: invalid JSON message: expected a value, found '}'"),
        (#"  {"execute": "x"} y"#, "column 20: invalid JSON message: unexpected text after the JSON value"),
        (#"{"execute": "x""#, "column 16: invalid JSON message: expected ',' or '}', found end of input"),
        ("[1, 2]", "column 1: a raw QMP message must be a JSON object, found an array"),
        // Only the quotes are QEMU's leniency: Python's True is not JSON.
        (
            #"{'execute': 'x', 'arguments': {'a': True}}"#,
            "column 37: invalid JSON message: expected a value, found 'T'"
        ),
        (#"{'execute': 'x}"#, "column 13: invalid JSON message: unterminated string"),
        // Directives.
        (".", "column 1: expected a directive name after '.'"),
        (".  wait", "column 1: expected a directive name after '.'"),
        (".wait!x y", "column 6: invalid character '!' in directive name '.wait!x'"),
    ])
    func error(line: String, expected: String) {
        #expect(outcome(of: line) == "!" + expected)
    }

    @Test func errorDescriptionAndFields() {
        var parser = LineParser()
        #expect(throws: LineParseError(column: 23, message: "unterminated quote in value of 'filename'")) {
            try parser.parse(#"blockdev-add filename="abc"#)
        }
        #expect(
            LineParseError(column: 14, message: "unterminated quote in value of 'filename'").description
                == "column 14: unterminated quote in value of 'filename'")
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
        #expect(outcome(of: "x a=" + deep).hasPrefix("!column "))
        // The innermost unclosed bracket is the one reported: that is where a closer is missing.
        #expect(
            outcome(of: "x a=" + String(repeating: "[", count: 200_000))
                == "!column 200004: unbalanced '[' in value of 'a'")
        #expect(outcome(of: "{\"a\":" + deep + "}").hasPrefix("!column "))
    }
}

/// Dotted keys nest like JSON: a message QEMU would refuse for its depth (and answer with an
/// error without an id, which ends the session) is refused here, with the column of the key.
@Suite(.timeLimit(.minutes(1))) struct NestingLimitTests {
    /// `k.k.k...` with `parts` parts.
    static func key(_ parts: Int) -> String { Array(repeating: "k", count: parts).joined(separator: ".") }
    static let tooDeep = "nests deeper than 1024 levels, the most QEMU accepts"
    static let shown = "k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.…"

    @Test(
        arguments: [
            // A command's arguments sit at level 2 of the message: a key may add 1,023 levels.
            ("x a=1 \(NestingLimitTests.key(1023))=1", nil),
            (
                "x a=1 \(NestingLimitTests.key(1024))=1",
                "column 7: key '\(NestingLimitTests.shown)' \(NestingLimitTests.tooDeep)"
            ),
            (
                "x \(NestingLimitTests.key(1025))=1",
                "column 3: key '\(NestingLimitTests.shown)' \(NestingLimitTests.tooDeep)"
            ),
            (
                "x \(NestingLimitTests.key(10_000))=1",
                "column 3: key '\(NestingLimitTests.shown)' \(NestingLimitTests.tooDeep)"
            ),
            (
                "x \(NestingLimitTests.key(100_000))=1",
                "column 3: key '\(NestingLimitTests.shown)' \(NestingLimitTests.tooDeep)"
            ),
            // The value's own nesting counts.
            ("x a=\(String(repeating: "[", count: 1022))\(String(repeating: "]", count: 1022))", nil),
            (
                "x a=\(String(repeating: "[", count: 1023))\(String(repeating: "]", count: 1023))",
                "column 3: key 'a' \(NestingLimitTests.tooDeep)"
            ),
            (
                "x \(NestingLimitTests.key(1000))=\(String(repeating: "[", count: 30))\(String(repeating: "]", count: 30))",
                "column 3: key '\(NestingLimitTests.shown)' \(NestingLimitTests.tooDeep)"
            ),
            // A transaction action's data sits at level 5.
            ("transaction( abort \(NestingLimitTests.key(1020))=1 )", nil),
            (
                "transaction( abort \(NestingLimitTests.key(1021))=1 )",
                "column 20: key '\(NestingLimitTests.shown)' \(NestingLimitTests.tooDeep)"
            ),
        ] as [(String, String?)])
    func nesting(line: String, expectedError: String?) throws {
        var parser = LineParser()
        do {
            let parsed = try parser.parse(line)
            #expect(expectedError == nil, "parsed, but expected \(expectedError ?? "")")
            // What is accepted is what a parser with QEMU's limit reads back.
            guard case .message(let message) = try #require(parsed.first) else { return }
            _ = try JSONParser.parse(JSONValue.object(message).serialized())
        } catch let error as LineParseError {
            #expect(error.description == expectedError)
        }
    }

    @Test func aWordWithManyDotsIsStillAWord() throws {
        let word = Self.key(5_000)
        #expect(outcome(of: word) == "{\"execute\":\"\(word)\"}")
        let parsed = try LineParser.parseArguments("\(word) a=1", directive: "wait")
        #expect(parsed.words == [word])
    }
}

/// A line's cost grows with its length, not with its square: 100,000 arguments on one line parse
/// within the suite's minute (in about a second, debug build); before, merging each key scanned
/// every key before it, and this took over ten minutes.
@Suite(.timeLimit(.minutes(1))) struct LongLineTests {
    /// Flat keys (`k0=0 k1=1 ...`), and dotted keys that all merge into one object (`a.k0=0 ...`).
    @Test(arguments: [false, true])
    func aHundredThousandArgumentsOnOneLine(dotted: Bool) throws {
        let count = 100_000
        let prefix = dotted ? "a.k" : "k"
        let line = "x " + (0..<count).map { "\(prefix)\($0)=\($0)" }.joined(separator: " ")
        var parser = LineParser()
        let parsed = try parser.parse(line)
        guard case .message(let message) = try #require(parsed.first) else {
            Issue.record("not a message")
            return
        }
        var arguments = try #require(message["arguments"]?.objectValue)
        if dotted { arguments = try #require(arguments["a"]?.objectValue) }
        #expect(arguments.count == count)
        #expect(arguments.keys.first == "k0" && arguments.keys.last == "k\(count - 1)", "in the order typed")
        #expect(arguments["k4321"] == 4_321)
    }
}

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
