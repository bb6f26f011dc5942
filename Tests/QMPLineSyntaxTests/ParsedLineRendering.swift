import QMP
import Testing
@testable import QMPLineSyntax

/// Renders parser output so that expectations read as the JSON that would go on the wire:
/// a message as compact JSON, a directive as `.name [argument text]`.
func render(_ lines: [ParsedLine]) -> String {
    lines.map { line in
        switch line {
        case .message(let object): JSONValue.object(object).serialized()
        case .directive(let name, let argumentText): ".\(name) [\(argumentText)]"
        }
    }.joined(separator: "\n")
}

/// Feeds `lines` to one parser; each line's outcome is its rendering, or `!` and the error.
func outcomes(of lines: [String], parser: inout LineParser) -> [String] {
    lines.map { line in
        do {
            return render(try parser.parse(line))
        } catch {
            return "!\(error)"
        }
    }
}

/// The outcome of a single line given to a fresh parser.
func outcome(of line: String) -> String {
    var parser = LineParser()
    return outcomes(of: [line], parser: &parser)[0]
}
