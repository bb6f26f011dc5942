import Synchronization

/// Completes what the user types on Tab: command names (from `query-commands`, or HMP's `help`),
/// directive names, the actions of a transaction, and file names for `.source`, `.add-fd` and
/// `.getfd`.
///
/// Arguments (and event names for `.wait` and `.help`) come from an ``ArgumentCompleting``, the
/// schema-aware ``SchemaCompleter``.
public final class Completer: Sendable {
    /// Completes arguments of a command; the schema-aware completer implements it.
    public protocol ArgumentCompleting: Sendable {
        /// Candidates for `word` (the text after the last space) of `command`'s arguments, each
        /// the whole word. `command` is also `.wait`, `.help` (event names) or `transaction(`.
        func complete(command: String, word: String, lineBeforeCursor: String) -> [String]
    }

    private struct Names {
        var commands: [String] = []
        /// HMP: `info` subcommands.
        var infoTopics: [String] = []
    }

    private let names = Mutex(Names())
    private let hmp: Bool
    private let argumentCompleter: Mutex<(any ArgumentCompleting)?> = Mutex(nil)

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

    /// Reads HMP's `help` text: each line starts with `name|alias [args] -- description`.
    public static func hmpNames(fromHelp text: String, prefix: String = "") -> [String] {
        text.split(separator: "\n").flatMap { line -> [String] in
            var words = line.split(separator: " ", omittingEmptySubsequences: true)[...]
            if !prefix.isEmpty {
                guard words.first == Substring(prefix) else { return [] }
                words = words.dropFirst()
            }
            guard let first = words.first, first.first?.isLetter == true else { return [] }
            return first.split(separator: "|").map(String.init)
        }
    }

    /// Candidates for the word before the cursor.
    public func complete(_ lineBeforeCursor: String) -> CompletionResult {
        let word = String(lineBeforeCursor.reversed().prefix(while: { !$0.isWhitespace }).reversed())
        let before = lineBeforeCursor.dropLast(word.count)
        let earlierWords = before.split(whereSeparator: \.isWhitespace).map(String.init)
        let candidates = candidates(for: word, after: earlierWords, lineBeforeCursor: lineBeforeCursor)
        return Self.shortened(CompletionResult(replacementLength: word.count, candidates: candidates))
    }

    /// Leaves out what every candidate keeps of the word up to its last `=`, `.` or `/`, so that
    /// a list shows `ppm png` rather than `format=ppm format=png`, like a shell shows file names.
    /// (A directive's leading dot stays.)
    static func shortened(_ result: CompletionResult) -> CompletionResult {
        guard result.candidates.count > 1, let first = result.candidates.first else { return result }
        var fixed = first.prefix(result.replacementLength)
        while let last = fixed.last, !"=./".contains(last) { fixed.removeLast() }
        // A directory can bring thousands of candidates: compare and cut as bytes (`fixed` ends at
        // an ASCII character, so the cut is between characters).
        let prefix = String(fixed)
        let bytes = prefix.utf8.count
        guard !prefix.isEmpty, prefix != ".", result.candidates.allSatisfy({ $0.hasPrefix(prefix) }) else { return result }
        return CompletionResult(
            replacementLength: result.replacementLength - fixed.count,
            candidates: result.candidates.map { String(Substring($0.utf8.dropFirst(bytes))) })
    }

    private func candidates(for word: String, after earlierWords: [String], lineBeforeCursor: String) -> [String] {
        let known = names.withLock { $0 }
        func matching(_ options: [String], suffix: String = " ") -> [String] {
            options.filter { $0.hasPrefix(word) }.map { $0 + suffix }
        }
        guard let first = earlierWords.first else {
            if word.hasPrefix(".") { return matching(Directive.allCases.map { "." + $0.rawValue }) }
            return matching(known.commands + (hmp ? [] : ["transaction("]))
        }
        if hmp {
            return first == "info" && earlierWords.count == 1 ? matching(known.infoTopics) : []
        }
        let completer = argumentCompleter.withLock { $0 }
        func fromCompleter(_ command: String) -> [String] {
            completer?.complete(command: command, word: word, lineBeforeCursor: lineBeforeCursor) ?? []
        }
        switch (first, earlierWords.count) {
        case (".help", 1):
            let names = Set(matching(Directive.allCases.map(\.rawValue) + known.commands) + fromCompleter(first))
            return names.sorted()
        case (".source", 1), (".add-fd", 1), (".getfd", 2):
            return PathCompletion.candidates(for: word)
        case (".wait", _):
            return fromCompleter(first)
        case ("transaction(", _):
            let actions = fromCompleter(first)
            if !actions.isEmpty || word.contains("=") { return actions }
            return matching(known.commands + [")"])
        default:
            guard !first.hasPrefix(".") else { return [] }
            return fromCompleter(first)
        }
    }
}
