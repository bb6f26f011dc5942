import QMP
import QMPLineSyntax
import Testing
@testable import QMPSchema

/// "Did you mean": the nearest name within a third of the word's length, else a name it begins.
@Suite(.timeLimit(.minutes(1))) struct SuggestionTests {
    @Test(
        arguments: [
            ("nme", ["node", "name", "granularity"], "name"),
            ("naem", ["node", "name"], "name"),
            ("granularty", ["node", "name", "granularity"], "granularity"),
            ("gran", ["node", "name", "granularity"], "granularity"),
            ("Name", ["node", "name"], "name"),
            ("file.drivr", ["file.driver", "file.filename"], "file.driver"),
            ("zzz", ["node", "name"], nil),
            ("x", ["y", "z"], nil),
            ("X", ["y", "x"], "x"),
            ("ab", ["xy"], nil),
            ("name", ["name"], nil),
            ("query-stauts", ["query-status", "query-name"], "query-status"),
        ] as [(String, [String], String?)])
    func closestName(word: String, candidates: [String], expected: String?) {
        #expect(Suggestion.closest(to: word, among: candidates) == expected)
    }
}
