import Testing

@testable import QMP

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
