import QMP
import Testing
@testable import QMPLineSyntax

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
