import Testing

@testable import QMP

@Suite("JSON pretty layout", .timeLimit(.minutes(1)))
struct JSONPrettyTests {
    @Test("a small nested object is laid out with four-space indentation")
    func nestedObject() throws {
        let value = try JSONParser.parse(
            #"{"name":"qmp","version":{"major":8,"minor":2},"caps":["oob",true,null],"empty":{},"none":[],"n":-0.5}"#)
        let expected = """
            {
                "name": "qmp",
                "version": {
                    "major": 8,
                    "minor": 2
                },
                "caps": [
                    "oob",
                    true,
                    null
                ],
                "empty": {},
                "none": [],
                "n": -0.5
            }
            """
        #expect(value.serialized(.pretty) == expected)
    }

    @Test(
        "pretty layout of small values",
        arguments: [
            ("{}", "{}"),
            ("[]", "[]"),
            ("1", "1"),
            ("null", "null"),
            (#""a b""#, #""a b""#),
            ("[1]", "[\n    1\n]"),
            ("[1,2]", "[\n    1,\n    2\n]"),
            ("[[]]", "[\n    []\n]"),
            ("[{}]", "[\n    {}\n]"),
            ("[[],{}]", "[\n    [],\n    {}\n]"),
            (#"{"a":[]}"#, "{\n    \"a\": []\n}"),
            (#"{"a":{}}"#, "{\n    \"a\": {}\n}"),
            ("[[1]]", "[\n    [\n        1\n    ]\n]"),
            (#"{"a":{"b":{"c":1}}}"#, "{\n    \"a\": {\n        \"b\": {\n            \"c\": 1\n        }\n    }\n}"),
            (#"{"a":1,"a":2}"#, "{\n    \"a\": 1,\n    \"a\": 2\n}"),
            (#"{"k\n":"v\n"}"#, "{\n    \"k\\n\": \"v\\n\"\n}"),
        ])
    func small(input: String, expected: String) throws {
        let value = try JSONParser.parse(input)
        #expect(value.serialized(.pretty) == expected)
        #expect(try JSONParser.parse(expected) == value)
    }

    @Test("pretty lines have no trailing whitespace and indentation grows by four per level")
    func indentation() throws {
        let value = try JSONParser.parse(#"[{"a":[{"b":[1,{"c":[]}]}]}]"#)
        let text = value.serialized(.pretty)
        #expect(!text.hasSuffix("\n"))
        var depth = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            #expect(line.last != " ")
            let content = line.drop(while: { $0 == " " })
            if content.first == "]" || content.first == "}" { depth -= 1 }
            #expect(line.count - content.count == depth * 4, "\(line)")
            if content.last == "[" || content.last == "{" { depth += 1 }
        }
        #expect(depth == 0)
    }

    @Test("write(to:) appends to existing bytes in either layout")
    func writeAppends() {
        var bytes = Array("x=".utf8)
        let value: JSONValue = ["a": [1]]
        value.write(to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == #"x={"a":[1]}"#)
        bytes = Array("y=".utf8)
        value.write(to: &bytes, layout: .pretty)
        #expect(String(decoding: bytes, as: UTF8.self) == "y={\n    \"a\": [\n        1\n    ]\n}")
    }

    @Test("the default layout and description are compact")
    func defaults() {
        let value: JSONValue = ["a": [1, "b"], "c": [:]]
        #expect(value.serialized() == #"{"a":[1,"b"],"c":{}}"#)
        #expect(value.serialized(.compact) == value.serialized())
        #expect(value.description == value.serialized())
        #expect("\(value)" == value.serialized())
    }
}
