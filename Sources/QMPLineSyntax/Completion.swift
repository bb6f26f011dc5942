// What Tab offers, shared by the line editor (which shows it), the shell's completer (command
// and directive names) and the schema's completer (arguments), none of which knows the others.

/// What a completer offers for the text before the cursor.
public struct CompletionResult: Sendable, Equatable {
    /// How many characters (as Swift counts them) before the cursor the candidates replace:
    /// the length of the word being completed.
    public var replacementLength: Int
    /// The full replacements for that word, in the order to list them. A candidate carries its
    /// own suffix: end it with a space or `=` if the user should not have to type one.
    public var candidates: [String]

    public init(replacementLength: Int, candidates: [String]) {
        self.replacementLength = replacementLength
        self.candidates = candidates
    }

    /// Nothing to offer: Tab beeps.
    public static let none = CompletionResult(replacementLength: 0, candidates: [])
}

/// Completes arguments of a command; the schema-aware completer implements it.
public protocol ArgumentCompleting: Sendable {
    /// How to complete `word` (the text after the last space) among `command`'s arguments:
    /// the candidates replace the last `replacementLength` characters of `word` (all of it,
    /// or what follows its last `=`, `.` or `/`, so that a list shows `ppm png` rather than
    /// `format=ppm format=png`). `command` is also `.wait`, `.help` (event names, replacing the
    /// whole word) or `transaction(`.
    func complete(command: String, word: String, lineBeforeCursor: String) -> CompletionResult
}
