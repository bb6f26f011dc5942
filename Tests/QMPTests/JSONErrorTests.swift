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
