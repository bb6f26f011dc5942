import QMPSchema
import Synchronization
import QMPLineSyntax

/// Completes what the user types on Tab: command names (from `query-commands`, or HMP's `help`),
/// directive names, the actions of a transaction, and file names for `.source`, `.add-fd` and
/// `.getfd`.
///
/// Arguments (and event names for `.wait` and `.help`) come from an ``ArgumentCompleting``, the
/// schema-aware ``SchemaCompleter``.
public final class Completer: Sendable {
    private struct Names {
        var commands: [String] = []
        /// HMP: `info` subcommands.
        var infoTopics: [String] = []
    }

    private let names = Mutex(Names())
    private let hmp: Bool
    private let argumentCompleter: Mutex<(any ArgumentCompleting)?> = Mutex(nil)
    private let continuingTransaction = Mutex(false)

    public init(hmp: Bool) {
        self.hmp = hmp
    }

    /// Sets the QMP command names (from `query-commands`) or HMP command names.
    public func setCommandNames(_ commands: [String]) {
        names.withLock { $0.commands = Array(Set(commands)).sorted() }
    }

    /// Sets HMP's `info` subcommands.
    public func setInfoTopics(_ topics: [String]) {
        names.withLock { $0.infoTopics = Array(Set(topics)).sorted() }
    }

    /// Plugs in argument completion.
    public func setArgumentCompleter(_ completer: (any ArgumentCompleting)?) {
        argumentCompleter.withLock { $0 = completer }
    }

    /// Whether the line being read continues an open `transaction(` (the `TRANS> ` prompt): its
    /// words are then actions and their arguments, or `)`.
    public func setContinuingTransaction(_ continuing: Bool) {
        continuingTransaction.withLock { $0 = continuing }
    }

    /// Reads HMP's `help` (or `help info`) text: one line per command, `name|alias [args] --
    /// description`, continued on lines that start with a tab. QEMU ends its lines with `\r\n`,
    /// which Swift reads as one `Character`, so lines are split at any line end. As Python's
    /// qmp-shell does, a command with an alias gives its long name (`cont|c` → `cont`).
    public static func hmpNames(fromHelp text: String, prefix: String = "") -> [String] {
        text.split(whereSeparator: \.isNewline).compactMap { line -> String? in
            guard line.first?.isLetter == true else { return nil }
            var words = line.split(separator: " ", omittingEmptySubsequences: true)[...]
            if !prefix.isEmpty {
                guard words.first == Substring(prefix) else { return nil }
                words = words.dropFirst()
            }
            guard let first = words.first, first.first?.isLetter == true else { return nil }
            // The longest spelling; the first of equally long ones.
            return first.split(separator: "|").reduce(nil) { (longest: Substring?, name) in
                (longest?.count ?? -1) < name.count ? name : longest
            }.map(String.init)
        }
    }

    /// Candidates for the word before the cursor.
    public func complete(_ lineBeforeCursor: String) -> CompletionResult {
        if !hmp && continuingTransaction.withLock({ $0 }) {
            // Completed as the rest of a one-line transaction: same actions, same arguments.
            return completeLine("transaction( " + lineBeforeCursor)
        }
        return completeLine(lineBeforeCursor)
    }

    private func completeLine(_ lineBeforeCursor: String) -> CompletionResult {
        let word = String(lineBeforeCursor.reversed().prefix(while: { !$0.isWhitespace }).reversed())
        let before = lineBeforeCursor.dropLast(word.count)
        let earlierWords = before.split(whereSeparator: \.isWhitespace).map(String.init)
        return completion(of: word, after: earlierWords, lineBeforeCursor: lineBeforeCursor)
    }

    private func completion(of word: String, after earlierWords: [String], lineBeforeCursor: String) -> CompletionResult
    {
        let known = names.withLock { $0 }
        func matching(_ options: [String], suffix: String = " ") -> CompletionResult {
            CompletionResult(
                replacementLength: word.count, candidates: options.filter { $0.hasPrefix(word) }.map { $0 + suffix })
        }
        guard let first = earlierWords.first else {
            if word.hasPrefix(".") { return matching(Directive.allCases.map { "." + $0.rawValue }) }
            return matching(known.commands + (hmp ? [] : ["transaction("]))
        }
        if hmp {
            guard earlierWords.count == 1 else { return .none }
            switch first {
            case "info": return matching(known.infoTopics)
            case "help": return matching(known.commands)
            default: return .none
            }
        }
        let completer = argumentCompleter.withLock { $0 }
        func fromCompleter(_ command: String) -> CompletionResult {
            completer?.complete(command: command, word: word, lineBeforeCursor: lineBeforeCursor) ?? .none
        }
        switch (first, earlierWords.count) {
        case (".help", 1):
            // Event names from the schema replace the whole word too.
            let names = Set(matching(Directive.allCases.map(\.rawValue) + known.commands).candidates)
                .union(fromCompleter(first).candidates)
            return CompletionResult(replacementLength: word.count, candidates: names.sorted())
        case (".source", 1), (".add-fd", 1), (".getfd", 2):
            return PathCompletion.complete(word)
        case (".wait", _):
            return fromCompleter(first)
        case ("transaction(", _):
            let actions = fromCompleter(first)
            if !actions.candidates.isEmpty || word.contains("=") { return actions }
            return matching(known.commands + [")"])
        default:
            guard !first.hasPrefix(".") else { return .none }
            return fromCompleter(first)
        }
    }
}
