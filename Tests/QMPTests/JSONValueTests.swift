import Testing

@testable import QMP

@Suite("JSON values and objects", .timeLimit(.minutes(1)))
struct JSONValueTests {
    static let document: JSONValue = [
        "return": [
            "qemu": ["micro": 0, "minor": 2, "major": 8],
            "package": "v8.2.0",
            "list": [["name": "x"]],
            "empty": [:],
            "nothing": nil,
        ],
        "dup": 1,
        "dup": 2,
        "": ["": "empty keys"],
    ]

    @Test(
        "value(atPath:) descends through objects",
        arguments: [
            ("return.qemu.major", 8),
            ("return.qemu.minor", 2),
            ("return.package", "v8.2.0"),
            ("return.qemu", ["micro": 0, "minor": 2, "major": 8]),
            ("return.empty", [:]),
            ("return.nothing", nil),
            ("return.list", [["name": "x"]]),
            ("dup", 2),
            (".", "empty keys"),
        ] as [(String, JSONValue)])
    func pathFound(path: String, expected: JSONValue) {
        #expect(Self.document.value(atPath: path) == expected)
    }

    @Test(
        "value(atPath:) gives nil when the path leads nowhere",
        arguments: [
            "missing",
            "return.missing",
            "return.qemu.major.more",  // through a number
            "return.package.x",  // through a string
            "return.list.0",  // arrays are not descended
            "return.list.0.name",
            "return.nothing.x",  // through null
            "return..qemu",  // empty component
            "return.qemu.",
            "Return.qemu.major",  // keys are case-sensitive
        ])
    func pathMissing(path: String) {
        #expect(Self.document.value(atPath: path) == nil)
    }

    @Test("value(atPath:) accepts a Substring and works on parsed values")
    func pathSubstringAndParsed() throws {
        let parsed = try JSONParser.parse(#"{"a":{"b":{"c":"deep"}}}"#)
        let path = "xa.b.cx".dropFirst().dropLast()
        #expect(parsed.value(atPath: path) == "deep")
        #expect(parsed.value(atPath: "a.b") == ["c": "deep"])
        #expect(JSONValue.array([1]).value(atPath: "a") == nil)
        #expect(JSONValue.string("a").value(atPath: "a") == nil)
    }

    @Test("accessors give the payload of the matching case only")
    func accessors() {
        let values: [JSONValue] = [nil, true, 7, "s", [1], ["k": "v"]]
        #expect(values.map(\.isNull) == [true, false, false, false, false, false])
        #expect(values.map(\.boolValue) == [nil, true, nil, nil, nil, nil])
        #expect(values.map(\.intValue) == [nil, nil, 7, nil, nil, nil])
        #expect(values.map(\.numberValue) == [nil, nil, JSONNumber(7), nil, nil, nil])
        #expect(values.map(\.stringValue) == [nil, nil, nil, "s", nil, nil])
        #expect(values.map(\.arrayValue) == [nil, nil, nil, nil, [1], nil])
        #expect(values.map(\.objectValue) == [nil, nil, nil, nil, nil, ["k": "v"]])
        #expect(values.map { $0["k"] } == [nil, nil, nil, nil, nil, "v"])
    }

    @Test(
        "literals build the expected values and text",
        arguments: [
            (nil, .null, "null"),
            (true, .bool(true), "true"),
            (false, .bool(false), "false"),
            (0, .number(JSONNumber(0)), "0"),
            (-42, .number(JSONNumber(text: "-42")!), "-42"),
            (9_223_372_036_854_775_807, .number(JSONNumber(Int.max)), "9223372036854775807"),
            (-9_223_372_036_854_775_808, .number(JSONNumber(Int.min)), "-9223372036854775808"),
            (0.5, .number(JSONNumber(text: "0.5")!), "0.5"),
            (-0.0, .number(JSONNumber(text: "-0.0")!), "-0.0"),
            (2.0, .number(JSONNumber(text: "2")!), "2"),
            (1e308, .number(JSONNumber(text: "1e+308")!), "1e+308"),
            ("text", .string("text"), #""text""#),
            ("", .string(""), #""""#),
            ([], .array([]), "[]"),
            ([1, "a", nil, [true]], .array([1, "a", .null, .array([.bool(true)])]), #"[1,"a",null,[true]]"#),
            ([:], .object(JSONObject()), "{}"),
            (
                ["b": 1, "a": ["c": []]],
                .object(
                    JSONObject([
                        .init(key: "b", value: 1),
                        .init(key: "a", value: .object(JSONObject([.init(key: "c", value: .array([]))]))),
                    ])),
                #"{"b":1,"a":{"c":[]}}"#
            ),
        ] as [(JSONValue, JSONValue, String)])
    func literals(literal: JSONValue, expected: JSONValue, text: String) throws {
        #expect(literal == expected)
        #expect(literal.serialized() == text)
        #expect(literal.description == text)
        #expect(try JSONParser.parse(text) == expected)
    }

    @Test("object subscript: get finds the last duplicate")
    func subscriptGet() {
        let object: JSONObject = ["a": 1, "b": 2, "a": 3]
        #expect(object["a"] == 3)
        #expect(object["b"] == 2)
        #expect(object["c"] == nil)
        #expect(object.keys == ["a", "b", "a"])
    }

    @Test("object subscript: setting an existing key replaces it in place")
    func subscriptReplace() {
        var object: JSONObject = ["a": 1, "b": 2, "c": 3]
        object["b"] = "two"
        #expect(object.keys == ["a", "b", "c"])
        #expect(object["b"] == "two")
        #expect(JSONValue.object(object).serialized() == #"{"a":1,"b":"two","c":3}"#)
    }

    @Test("object subscript: setting a new key appends it")
    func subscriptAppend() {
        var object = JSONObject()
        object["z"] = 1
        object["a"] = 2
        object["m"] = nil  // setting nil on a missing key changes nothing
        #expect(object.keys == ["z", "a"])
        #expect(JSONValue.object(object).serialized() == #"{"z":1,"a":2}"#)
    }

    @Test("object subscript: setting nil removes the member")
    func subscriptRemove() {
        var object: JSONObject = ["a": 1, "b": 2, "c": 3]
        object["b"] = nil
        #expect(object.keys == ["a", "c"])
        #expect(object["b"] == nil)
        object["a"] = nil
        object["c"] = nil
        #expect(object.isEmpty)
        #expect(JSONValue.object(object).serialized() == "{}")
    }

    @Test("object subscript: setting nil removes every member with that key")
    func subscriptRemoveDuplicates() throws {
        var object = try #require(JSONParser.parse(#"{"a":1,"b":2,"a":3}"#).objectValue)
        object["a"] = nil
        #expect(object["a"] == nil)
        #expect(object.keys == ["b"])
    }

    @Test("object subscript: setting a duplicated key updates the one lookups find")
    func subscriptSetDuplicate() throws {
        var object = try #require(JSONParser.parse(#"{"a":1,"b":2,"a":3}"#).objectValue)
        object["a"] = 9
        #expect(object["a"] == 9)
        #expect(object.keys == ["a", "b", "a"])
        #expect(JSONValue.object(object).serialized() == #"{"a":1,"b":2,"a":9}"#)
    }

    @Test("object append adds a member even if the key exists")
    func appendMember() {
        var object: JSONObject = ["a": 1]
        object.append(key: "b", value: true)
        object.append(key: "a", value: "again")
        #expect(object.keys == ["a", "b", "a"])
        #expect(object["a"] == "again")
        #expect(object.count == 3)
        #expect(object[0] == JSONObject.Member(key: "a", value: 1))
        #expect(object[2].value == "again")
        #expect(JSONValue.object(object).serialized() == #"{"a":1,"b":true,"a":"again"}"#)
    }

    @Test("objects are collections of members in order")
    func objectCollection() {
        let object: JSONObject = ["x": 1, "y": 2, "z": 3]
        #expect(object.map(\.key) == ["x", "y", "z"])
        #expect(object.startIndex == 0)
        #expect(object.endIndex == 3)
        #expect(object.first?.value == 1)
        #expect(object.last?.key == "z")
        #expect(
            JSONObject([.init(key: "x", value: 1), .init(key: "y", value: 2), .init(key: "z", value: 3)]) == object)
        let ba: JSONObject = ["b": 1, "a": 2]
        let ab: JSONObject = ["a": 2, "b": 1]
        #expect(ba != ab)
    }
}
