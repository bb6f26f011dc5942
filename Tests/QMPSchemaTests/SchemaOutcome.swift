import QMP
import QMPLineSyntax

@testable import QMPSchema

/// What the runner does with a line when the schema is known: types it by the schema, then
/// checks the message. The outcome is the message sent, or `!` and the error.
func schemaOutcome(
    of line: String, schema: QMPSchema, checks: Bool = true, deviceProperties: [DeviceCatalog.Property] = []
) -> String {
    var parser = LineParser(
        valueTyping: SchemaValueTyping(schema: schema, checks: checks, line: line, deviceProperties: deviceProperties))
    do {
        let parsed = try parser.parse(line)
        if checks, case .message(let message)? = parsed.first, let command = message["execute"]?.stringValue,
            let problem = SchemaValidator(schema: schema).problem(
                command: command, arguments: message["arguments"]?.objectValue ?? [:])
        {
            return "!" + problem
        }
        // Typing by the schema only ever makes messages: each shown as the JSON sent.
        return parsed.map { line in
            guard case .message(let object) = line else { return "\(line)" }
            return JSONValue.object(object).serialized()
        }.joined(separator: "\n")
    } catch {
        return "!\(error)"
    }
}
