import QMP
import Testing
@testable import QMPLineSyntax

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
