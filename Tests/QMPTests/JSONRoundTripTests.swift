import Testing

@testable import QMP

// MARK: - Helpers shared by the JSON*Tests files

/// Parses `bytes` and returns the error, or `nil` if the text parsed.
func jsonParseError(_ bytes: [UInt8], maxDepth: Int = JSONParser.defaultMaxDepth) -> JSONParseError? {
    do {
        _ = try JSONParser.parse(bytes, maxDepth: maxDepth)
        return nil
    } catch {
        return error
    }
}

/// Parses `text` and returns the error, or `nil` if the text parsed.
func jsonParseError(_ text: String, maxDepth: Int = JSONParser.defaultMaxDepth) -> JSONParseError? {
    do {
        _ = try JSONParser.parse(text, maxDepth: maxDepth)
        return nil
    } catch {
        return error
    }
}

/// Parses `text` and writes it back compactly.
func jsonCompact(_ text: String) throws -> String {
    try JSONParser.parse(text).serialized(.compact)
}

// MARK: - Round trips

@Suite("JSON round trips", .timeLimit(.minutes(1)))
struct JSONRoundTripTests {
    /// Inputs written compactly: parsing and serializing compactly must give back the same text.
    static let compactInputs: [String] = [
        // Scalars.
        "null", "true", "false", "0", "-1", "42", #""""#, #""abc""#,
        // Empty containers, alone and nested.
        "[]", "{}", "[[]]", "[{}]", #"{"a":{}}"#, #"{"a":[]}"#, "[[],{},[[]],{}]",
        // Key order is kept, whatever it is.
        #"{"b":1,"a":2}"#,
        #"{"z":1,"y":2,"x":3,"a":4,"m":5}"#,
        #"{"execute":"query-status","arguments":{"z":true,"a":false},"id":"1"}"#,
        // Duplicate keys are kept, in order.
        #"{"a":1,"a":2}"#,
        #"{"a":1,"b":2,"a":3}"#,
        #"{"a":{"x":1},"a":[1]}"#,
        // Mixed and nested values.
        #"[1,"two",true,false,null,[],{},[3.5,[-0.0,[1e308]]]]"#,
        #"{"a":{"b":{"c":{"d":[1,{"e":null}]}}}}"#,
        #"{"return":{"qemu":{"micro":0,"minor":2,"major":8},"package":"v8.2.0"}}"#,
        #"{"QMP":{"version":{"qemu":{"micro":0,"minor":2,"major":8},"package":""},"capabilities":["oob"]}}"#,
        #"{"timestamp":{"seconds":1700000000,"microseconds":123456},"event":"STOP"}"#,
        // Numbers keep their exact text.
        "18446744073709551615", "-9223372036854775808", "1e308", "-0.0", "0.5", "1E+2", "-0", "1e-7",
        "123456789012345678901234567890", "[18446744073709551615,-9223372036854775808,1e308,-0.0]",
        "0.10000000000000000000000001", "2.50", "1E2", "1e+02",
        // Strings in canonical form (what the serializer writes).
        #""a\"b\\c\nd\re\tf\bg\fh""#,
        #""\u0000\u0001\u001f""#,
        #""é😀/</script>€""#,
        #"{"é":"ü","😀":["/"]}"#,
        #"{"":""}"#,
    ]

    @Test("parse then serialize compactly gives the input back", arguments: compactInputs)
    func compactRoundTrip(input: String) throws {
        #expect(try jsonCompact(input) == input)
    }

    @Test("the value survives serializing and parsing again, in both layouts", arguments: compactInputs)
    func valueRoundTrip(input: String) throws {
        let value = try JSONParser.parse(input)
        #expect(try JSONParser.parse(value.serialized(.compact)) == value)
        #expect(try JSONParser.parse(value.serialized(.pretty)) == value)
        // The pretty text compacts back to the original.
        #expect(try jsonCompact(value.serialized(.pretty)) == input)
    }

    @Test(
        "whitespace around tokens is accepted and dropped",
        arguments: [
            (" 1 ", "1"),
            ("\t\r\n null \n", "null"),
            (" [ 1 , 2 , [ ] , { } ] ", "[1,2,[],{}]"),
            ("{ \"a\" : 1 ,\n\t\"b\" :\r\n[ true , false ] }", #"{"a":1,"b":[true,false]}"#),
            ("[\n]", "[]"),
            ("{\n}", "{}"),
            (#"  "a b"  "#, #""a b""#),
        ])
    func whitespace(input: String, expected: String) throws {
        #expect(try jsonCompact(input) == expected)
    }

    @Test("key order and duplicates are visible through the object")
    func keyOrderAndDuplicates() throws {
        let value = try JSONParser.parse(#"{"c":1,"a":2,"b":3,"a":4}"#)
        let object = try #require(value.objectValue)
        #expect(object.keys == ["c", "a", "b", "a"])
        #expect(object.count == 4)
        // Lookups find the last of duplicate keys.
        #expect(object["a"] == 4)
        #expect(value["a"] == 4)
        #expect(object.members.map(\.value) == [1, 2, 3, 4])
    }

    @Test("empty containers parse to empty values")
    func emptyContainers() throws {
        #expect(try JSONParser.parse("[]") == .array([]))
        #expect(try JSONParser.parse("{}") == .object(JSONObject()))
        #expect(try JSONParser.parse(" [ ] ") == .array([]))
        #expect(try JSONParser.parse(" { } ") == .object([:]))
        #expect(try JSONParser.parse("{}").objectValue?.isEmpty == true)
    }

    @Test("nested values parse to the expected tree")
    func nestedTree() throws {
        let value = try JSONParser.parse(#"{"a":[1,{"b":null,"c":[true,"x"]}],"d":{}}"#)
        let expected: JSONValue = ["a": [1, ["b": nil, "c": [true, "x"]]], "d": [:]]
        #expect(value == expected)
    }

    @Test("equality is lossless: order and number text matter")
    func losslessEquality() throws {
        #expect(try JSONParser.parse(#"{"a":1,"b":2}"#) != JSONParser.parse(#"{"b":2,"a":1}"#))
        #expect(try JSONParser.parse("1.0") != JSONParser.parse("1"))
        #expect(try JSONParser.parse("1E2") != JSONParser.parse("1e2"))
        #expect(try JSONParser.parse(#"{"a":1}"#) == JSONParser.parse(#" { "a" : 1 } "#))
    }

    static let parseEntryPointCases: [String] = [#"{"a":[1,"é",null]}"#, "[1,", #""\ud800""#, "01", ""]

    @Test("every parse entry point gives the same value or the same error", arguments: parseEntryPointCases)
    func entryPointsAgree(input: String) {
        func outcome(_ parse: () throws(JSONParseError) -> JSONValue) -> Result<JSONValue, JSONParseError> {
            do { return .success(try parse()) } catch { return .failure(error) }
        }
        let fromString = outcome { () throws(JSONParseError) in try JSONParser.parse(input) }
        let bytes = Array(input.utf8)
        let fromArray = outcome { () throws(JSONParseError) in try JSONParser.parse(bytes) }
        let fromUTF8View = outcome { () throws(JSONParseError) in try JSONParser.parse(input.utf8) }
        // A sequence without contiguous storage takes the copying path.
        let fromLazy = outcome { () throws(JSONParseError) in try JSONParser.parse(bytes.lazy.map { $0 }) }
        let fromBuffer = bytes.withUnsafeBufferPointer { buffer in
            outcome { () throws(JSONParseError) in try JSONParser.parse(buffer) }
        }
        #expect(fromArray == fromString)
        #expect(fromUTF8View == fromString)
        #expect(fromLazy == fromString)
        #expect(fromBuffer == fromString)
    }
}

// MARK: - Values, objects, paths, literals
