import QMP
import QMPSchema

extension CommandRunner {
    /// Why `command` is refused before it is sent: the server's schema has no such command.
    /// `nil` when it has.
    static func unknownCommand(_ command: String, in schema: QMPSchema) -> String? {
        guard schema.commands[command] == nil else { return nil }
        return "unknown command '\(command.escapingControlCharacters)'"
            + didYouMean(command, among: schema.commandNames)
    }

    /// Why `.wait NAME` is refused at once: the server's schema has no such event, so waiting
    /// for it could only time out. `nil` when it has, or without the schema.
    func unknownEvent(_ name: String) async -> String? {
        guard link.hasServer, !configuration.hmp, let loaded = await schema?.schema(),
            loaded.events[name] == nil
        else { return nil }
        return "no event '\(name.escapingControlCharacters)' in this QEMU"
            + didYouMean(name, among: loaded.eventNames)
    }
}

/// `--event NAME`: the names the server's schema does not have, each as one line saying so.
public enum EventNameCheck {
    /// The problems with `names` once the server's schema is loaded (at once when there are no
    /// names); `nil` when there are none, or without the schema.
    public static func problems(_ names: [String], store: SchemaStore) async -> [String]? {
        guard !names.isEmpty, let loaded = await store.schema() else { return nil }
        let found = problems(names, schema: loaded)
        return found.isEmpty ? nil : found
    }

    public static func problems(_ names: some Sequence<String>, schema: QMPSchema) -> [String] {
        names.sorted().compactMap { name in
            guard schema.events[name] == nil else { return nil }
            return "--event \(name.escapingControlCharacters): no such event in this QEMU"
                + didYouMean(name, among: schema.eventNames)
        }
    }
}

/// " (did you mean 'x'?)" for the closest of `candidates`, or nothing.
func didYouMean(_ word: String, among candidates: [String]) -> String {
    Suggestion.closest(to: word, among: candidates).map { " (did you mean '\($0.escapingControlCharacters)'?)" } ?? ""
}
