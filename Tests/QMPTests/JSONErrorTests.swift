import Testing

@testable import QMP

@Suite("JSON parse errors", .timeLimit(.minutes(1)))
struct JSONErrorTests {
    static let cases: [(input: String, offset: Int, reason: String)] = [
        (#"{"a" 1}"#, 5, "':'"),
        (#"{"a"}"#, 4, "':'"),
        (#"{"a""#, 4, "':'"),
        ("", 0, "end of input"),
        ("   ", 3, "end of input"),
        ("\n\t", 2, "end of input"),
        ("[1,2]x", 5, "after"),
        ("{} {}", 3, "after"),
        (#"{"a":1}}"#, 7, "after"),
        ("[1]]", 3, "after"),
        ("[1]\u{0}", 3, "after"),
        ("nulll", 4, "after"),
        ("\"a\"\"b\"", 3, "after"),
        ("{\"a\":1}\n\n[", 9, "after"),
        ("nul", 0, "'null'"),
        ("nUll", 0, "'null'"),
        ("[nulL]", 1, "'null'"),
        ("tru", 0, "'true'"),
        ("trUe", 0, "'true'"),
        ("fals", 0, "'false'"),
        ("True", 0, "'T'"),
        ("[1,]", 3, "']'"),
        ("[,1]", 1, "','"),
        ("[1,,2]", 3, "','"),
        ("[1 2]", 3, "',' or ']'"),
        ("[true false]", 6, "',' or ']'"),
        ("[1}", 2, "',' or ']'"),
        ("[1", 2, "end of input"),
        ("[", 1, "end of input"),
        ("[1,", 3, "end of input"),
        ("{", 1, "end of input"),
        (#"{"a":1,}"#, 7, "member name"),
        (#"{"a":1,,"b":2}"#, 7, "member name"),
        ("{a:1}", 1, "member name"),
        ("{1:2}", 1, "member name"),
        ("{'a':1}", 1, "member name"),
        ("{,}", 1, "member name"),
        (#"{"a":1"#, 6, "',' or '}'"),
        (#"{"a":1 "b":2}"#, 7, "',' or '}'"),
        (#"{"a":1]"#, 6, "',' or '}'"),
        (#"{"a":}"#, 5, "value"),
        (#"{"a":"#, 5, "end of input"),
        ("]", 0, "']'"),
        ("}", 0, "'}'"),
        (":", 0, "':'"),
        ("'a'", 0, "value"),
        ("/* comment */ 1", 0, "'/'"),
        ("\u{FEFF}{}", 0, "0xEF"),
        ("\u{0}", 0, "0x0"),
        ("[1,\n 2,\n x]", 9, "'x'"),
        (#"["é",x]"#, 6, "'x'"),  // offsets count bytes, not characters
        (#"{"😀":1 x"#, 10, "'x'"),
    ]

    @Test("errors point at the problem and say what was expected", arguments: cases)
    func error(input: String, offset: Int, reason: String) throws {
        let error = try #require(jsonParseError(input), "\(input.debugDescription) should not parse")
        #expect(error.offset == offset, "\(input.debugDescription): \(error)")
        #expect(error.reason.contains(reason), "\(input.debugDescription): \(error)")
        #expect(error.description == "invalid JSON at byte \(offset): \(error.reason)")
        // Reasons are printable: no raw control characters or invalid text.
        #expect(!error.reason.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
    }

    @Test("a missing colon names the colon and the byte after the member name")
    func missingColon() throws {
        let error = try #require(jsonParseError(#"{"a" 1}"#))
        #expect(error == JSONParseError(offset: 5, reason: "expected ':' after member name, found '1'"))
        #expect(error.description == "invalid JSON at byte 5: expected ':' after member name, found '1'")
    }

    @Test("errors are thrown as JSONParseError")
    func typedThrow() {
        #expect(throws: JSONParseError(offset: 0, reason: "expected a value, found end of input")) {
            try JSONParser.parse("")
        }
        #expect(throws: JSONParseError.self) { try JSONParser.parse([UInt8]()) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse("[1,2]x".utf8) }
    }

    @Test(
        "a valid value followed by a second one is rejected",
        arguments: ["1 1", "[] []", "{}{}", "null null", "\"a\" \"b\""])
    func twoValues(input: String) throws {
        let error = try #require(jsonParseError(input))
        #expect(error.reason.contains("after the JSON value"))
    }
}

@Suite("JSON nesting depth", .timeLimit(.minutes(1)))
struct JSONDepthTests {
    static func nestedArrays(_ depth: Int) -> String {
        String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
    }

    static func nestedObjects(_ depth: Int) -> String {
        String(repeating: #"{"a":"#, count: depth - 1) + "{}" + String(repeating: "}", count: depth - 1)
    }

    @Test("200,000 open brackets give a nesting error, not a crash")
    func hugeArrayNesting() throws {
        let input = String(repeating: "[", count: 200_000)
        let error = try #require(jsonParseError(input))
        #expect(error.reason.contains("nesting"), "\(error)")
        #expect(error.offset == JSONParser.defaultMaxDepth)
    }

    @Test("200,000 closed nested arrays give a nesting error, not a crash")
    func hugeClosedArrayNesting() throws {
        let error = try #require(jsonParseError(Self.nestedArrays(200_000)))
        #expect(error.reason.contains("nesting"), "\(error)")
        #expect(error.offset == JSONParser.defaultMaxDepth)
    }

    @Test("200,000 nested objects give a nesting error, not a crash")
    func hugeObjectNesting() throws {
        let input = String(repeating: #"{"a":"#, count: 200_000)
        let error = try #require(jsonParseError(input))
        #expect(error.reason.contains("nesting"), "\(error)")
        #expect(error.offset == JSONParser.defaultMaxDepth * 5)
    }

    @Test("200,000 alternating arrays and objects give a nesting error, not a crash")
    func hugeMixedNesting() throws {
        let input = String(repeating: #"[{"a":"#, count: 100_000)
        let error = try #require(jsonParseError(input))
        #expect(error.reason.contains("nesting"), "\(error)")
        #expect(error.offset == JSONParser.defaultMaxDepth / 2 * 6)
    }

    @Test("the default limit is QEMU's 1024")
    func defaultLimit() {
        #expect(JSONParser.defaultMaxDepth == 1024)
    }

    @Test(
        "exactly maxDepth levels parse; one more fails at the extra bracket",
        arguments: [1, 2, 3, 10, 64, 1024])
    func arraysAtTheLimit(maxDepth: Int) throws {
        let atLimit = Self.nestedArrays(maxDepth)
        let value = try JSONParser.parse(atLimit, maxDepth: maxDepth)
        #expect(value.serialized() == atLimit)

        let error = try #require(jsonParseError(Self.nestedArrays(maxDepth + 1), maxDepth: maxDepth))
        #expect(error.offset == maxDepth)
        #expect(error.reason.contains("nesting"))
        #expect(error.reason.contains(String(maxDepth)))
    }

    @Test(
        "exactly maxDepth object levels parse; one more fails at the extra brace",
        arguments: [1, 2, 3, 10, 64, 1024])
    func objectsAtTheLimit(maxDepth: Int) throws {
        let atLimit = Self.nestedObjects(maxDepth)
        #expect(try JSONParser.parse(atLimit, maxDepth: maxDepth).serialized() == atLimit)

        let error = try #require(jsonParseError(Self.nestedObjects(maxDepth + 1), maxDepth: maxDepth))
        #expect(error.offset == maxDepth * 5)
        #expect(error.reason.contains("nesting"))
    }

    @Test("the default maxDepth allows 1024 levels and refuses 1025")
    func defaultDepth() throws {
        #expect(try JSONParser.parse(Self.nestedArrays(1024)).serialized() == Self.nestedArrays(1024))
        #expect(try JSONParser.parse(Self.nestedObjects(1024)).serialized() == Self.nestedObjects(1024))
        #expect(jsonParseError(Self.nestedArrays(1025))?.offset == 1024)
        #expect(jsonParseError(Self.nestedObjects(1025))?.offset == 1024 * 5)
    }

    @Test("maxDepth 0 allows scalars only")
    func zeroDepth() throws {
        #expect(try JSONParser.parse("1", maxDepth: 0) == 1)
        #expect(try JSONParser.parse(#""s""#, maxDepth: 0) == "s")
        #expect(jsonParseError("[]", maxDepth: 0)?.offset == 0)
        #expect(jsonParseError(" {}", maxDepth: 0)?.offset == 1)
    }

    @Test("depth counts nesting, not the number of containers")
    func depthIsNestingNotCount() throws {
        let siblings = "[" + String(repeating: "[[]],", count: 1000) + #"{"a":[],"b":{}}]"#
        #expect(try JSONParser.parse(siblings, maxDepth: 3).serialized() == siblings)
        #expect(jsonParseError(siblings, maxDepth: 2)?.offset == 2)
    }

    @Test("the deepest value the parser accepts parses inside a Task")
    func deepParseInTask() async throws {
        let arrays = Self.nestedArrays(JSONParser.defaultMaxDepth)
        let objects = Self.nestedObjects(JSONParser.defaultMaxDepth)
        let results = try await Task {
            let arrayValue = try JSONParser.parse(arrays)
            let objectValue = try JSONParser.parse(objects)
            // Two separately parsed copies, and one that differs only at the innermost level, so
            // the comparison walks all the way down rather than stopping at shared storage.
            let sameArrays = try JSONParser.parse(arrays)
            let innermostDiffers = try JSONParser.parse(arrays.replacingOccurrences(of: "[]", with: "[1]"))
            // Writing, comparing and hashing the value recurse as deeply as parsing did.
            return (
                arrayValue.serialized(), arrayValue.serialized(.pretty).count,
                arrayValue == sameArrays, arrayValue == innermostDiffers,
                objectValue.serialized(), Set([objectValue, arrayValue, sameArrays]).count
            )
        }.value
        #expect(results.0 == arrays)
        #expect(results.1 > arrays.count)
        #expect(results.2, "equal values compare equal at every depth")
        #expect(!results.3, "a difference at the innermost level is found")
        #expect(results.4 == objects)
        #expect(results.5 == 2)

        let detached = try await Task.detached { try JSONParser.parse(arrays).serialized() }.value
        #expect(detached == arrays)
    }

    @Test("the nesting error for a huge input is thrown inside a Task too")
    func hugeNestingInTask() async {
        let input = String(repeating: "[", count: 200_000)
        let error = await Task { jsonParseError(input) }.value
        #expect(error?.reason.contains("nesting") == true)
    }
}

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
