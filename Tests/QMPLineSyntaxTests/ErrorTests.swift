import QMP
import Testing
@testable import QMPLineSyntax

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
