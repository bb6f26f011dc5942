import QMP
import Testing
@testable import QMPLineSyntax

/// A line's cost grows with its length, not with its square: 100,000 arguments on one line parse
/// within the suite's minute (in about a second, debug build); before, merging each key scanned
/// every key before it, and this took over ten minutes.
@Suite(.timeLimit(.minutes(1))) struct LongLineTests {
    /// Flat keys (`k0=0 k1=1 ...`), and dotted keys that all merge into one object (`a.k0=0 ...`).
    @Test(arguments: [false, true])
    func aHundredThousandArgumentsOnOneLine(dotted: Bool) throws {
        let count = 100_000
        let prefix = dotted ? "a.k" : "k"
        let line = "x " + (0..<count).map { "\(prefix)\($0)=\($0)" }.joined(separator: " ")
        var parser = LineParser()
        let parsed = try parser.parse(line)
        guard case .message(let message) = try #require(parsed.first) else {
            Issue.record("not a message")
            return
        }
        var arguments = try #require(message["arguments"]?.objectValue)
        if dotted { arguments = try #require(arguments["a"]?.objectValue) }
        #expect(arguments.count == count)
        #expect(arguments.keys.first == "k0" && arguments.keys.last == "k\(count - 1)", "in the order typed")
        #expect(arguments["k4321"] == 4_321)
    }
}
