import QMP
import Testing

@testable import QMPLineSyntax
@testable import QMPShell

@Suite(.timeLimit(.minutes(1))) struct PythonLiteralTests {
    @Test(arguments: [
        (#"['a', "b", 'it\'s', "it's"]"#, #"["a","b","it's","it's"]"#),
        ("{'a': True, 'b': False, 'c': None}", #"{"a":true,"b":false,"c":null}"#),
        ("{'a': true, 'b': false, 'c': null}", #"{"a":true,"b":false,"c":null}"#),
        ("[1, 2, 3,]", "[1,2,3]"),
        ("{'a': 1,}", #"{"a":1}"#),
        ("[(1, 2), (1,), (), (1)]", "[[1,2],[1],[],1]"),
        ("[ 1 ,\n\t2 ]", "[1,2]"),
        ("[[[]]]", "[[[]]]"),
        ("{'a': {'b': [1, {'c': 'd'}]}}", #"{"a":{"b":[1,{"c":"d"}]}}"#),
        ("{'b': 1, 'a': 2, 'b': 3}", #"{"b":3,"a":2}"#),
        (
            "[-1, +2, - 3, 1_000, 0x1F, 0o17, 0b101, -0x10, 007]",
            "[-1,2,-3,1000,31,15,5,-16,7]"
        ),
        ("[1.5, .5, 5., 1e3, -2.5E-3, 1_0.2_5]", "[1.5,0.5,5.0,1e3,-2.5E-3,10.25]"),
        (
            "[18446744073709551615, -123456789012345678901234567890]",
            "[18446744073709551615,-123456789012345678901234567890]"
        ),
        (#"['\n\t\\', '\x41\u00e9\U0001F600', '\101\0']"#, #"["\n\t\\","Aé😀","A\u0000"]"#),
        (#"['\q', r'a\nb', r'\'', u'x', U"y", R'z']"#, #"["\\q","a\\nb","\\'","x","y","z"]"#),
        ("['a' 'b', \"c\" u'd', 'e']", #"["ab","cd","e"]"#),
        (
            "{'node-name': 'n0', 'file': {'driver': 'file', 'filename': '/tmp/x'}}",
            #"{"node-name":"n0","file":{"driver":"file","filename":"/tmp/x"}}"#
        ),
    ])
    func literal(text: String, expected: String) throws {
        #expect(try PythonLiteral.parse(text).serialized() == expected)
    }

    @Test(arguments: [
        ("[1, 2", 5, "expected ',' or ']', found end of input"),
        ("{1: 2}", 1, "dict keys must be strings"),
        ("{'a' 1}", 5, "expected ':' after a dict key, found '1'"),
        ("[foo]", 1, "unknown name 'foo'"),
        ("[b'x']", 1, "bytes literals have no JSON form"),
        ("[1j]", 1, "invalid number '1j'"),
        ("['abc", 1, "unterminated string"),
        ("[0x]", 1, "invalid or too large integer '0x'"),
        ("[0x10000000000000000]", 1, "invalid or too large integer '0x10000000000000000'"),
        ("[1] 2", 4, "unexpected text after the value, found '2'"),
        ("[-'a']", 2, "expected a number after '-'"),
        (#"['\x4']"#, 2, "expected 2 hex digits in escape"),
        (#"['\ud800']"#, 2, "escape is not a Unicode character (surrogate or too large)"),
        ("{1, 2}", 1, "dict keys must be strings"),
        ("", 0, "expected a value, found end of input"),
    ])
    func error(text: String, offset: Int, reason: String) {
        #expect(throws: JSONParseError(offset: offset, reason: reason)) {
            try PythonLiteral.parse(text)
        }
    }

    @Test func nestingIsLimited() {
        let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        #expect(throws: JSONParseError.self) { try PythonLiteral.parse(deep) }
        #expect(throws: Never.self) {
            try PythonLiteral.parse(String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000))
        }
    }
}

@Suite(.timeLimit(.minutes(1))) struct ValueSyntaxTests {
    @Test(arguments: [
        ("12", "12"), ("-12", "-12"), ("+12", "12"), ("012", "12"), ("0", "0"), ("0x1f", "31"),
        ("1.5", "1.5"), (".5", "0.5"), ("5.", "5.0"), ("1e9", "1e9"), ("1E+9", "1E+9"),
    ])
    func number(text: String, expected: String) {
        #expect(ValueSyntax.number(from: text)?.text == expected)
    }

    @Test(arguments: ["", "+", "-", ".", "e5", "1e", "1.2.3", "0x", "1_0", " 1", "1 ", "١٢"])
    func notANumber(text: String) {
        #expect(ValueSyntax.number(from: text) == nil)
    }

    @Test(arguments: [
        ("7", false, "7"), ("7", true, #""7""#), ("", false, #""""#), ("TRUE", false, "true"),
        ("null", false, "null"), ("null", true, #""null""#), ("[1,'a']", false, #"[1,"a"]"#),
        ("[1,'a']", true, #""[1,'a']""#), ("{\"a\": 1}", false, #"{"a":1}"#),
    ])
    func value(text: String, wasQuoted: Bool, expected: String) throws {
        let token = ArgumentToken(keyPath: ["k"], text: text, wasQuoted: wasQuoted)
        #expect(try ValueSyntax().value(of: token, in: .command("x")).serialized() == expected)
    }
}

/// A stand-in for a schema-aware typing: shows that typing is replaceable and receives its owner.
private struct OwnerEchoTyping: ValueTyping {
    func value(of argument: ArgumentToken, in owner: ArgumentOwner) throws(LineParseError) -> JSONValue {
        switch owner {
        case .command(let name): .string("\(name):\(argument.key)=\(argument.text)")
        case .transactionAction(let type): .string("action \(type):\(argument.key)=\(argument.text)")
        case .directive(let name): .string(".\(name):\(argument.key)=\(argument.text)")
        }
    }
}

@Suite(.timeLimit(.minutes(1))) struct ReplaceableTypingTests {
    @Test func theInjectedTypingDecides() throws {
        var parser = LineParser(valueTyping: OwnerEchoTyping())
        #expect(
            render(try parser.parse("block-job-set-speed device=7 speed=100"))
                == #"{"execute":"block-job-set-speed","arguments":{"device":"block-job-set-speed:device=7","speed":"block-job-set-speed:speed=100"}}"#
        )
        #expect(
            render(try parser.parse("transaction( abort a.b=1 )"))
                == #"{"execute":"transaction","arguments":{"actions":[{"type":"abort","data":{"a":{"b":"action abort:a.b=1"}}}]}}"#
        )
        let arguments = try LineParser.parseArguments("EVENT id=j0", directive: "wait", valueTyping: OwnerEchoTyping())
        #expect(JSONValue.object(arguments.arguments).serialized() == #"{"id":".wait:id=j0"}"#)
    }

    @Test func typingCanBeSwappedOnALiveParser() throws {
        var parser = LineParser()
        #expect(render(try parser.parse("x name=7")) == #"{"execute":"x","arguments":{"name":7}}"#)
        parser.valueTyping = OwnerEchoTyping()
        #expect(render(try parser.parse("x name=7")) == #"{"execute":"x","arguments":{"name":"x:name=7"}}"#)
    }
}

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
