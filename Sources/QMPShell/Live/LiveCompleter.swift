import QMPLineSyntax
import QMPSchema

/// Tab for the values only the running VM knows: in front of the schema's completer, it answers
/// for the arguments that take a node name, a device, job, object, chardev or netdev id, a QOM path
/// or a QOM property (``LiveValueKind/kind(command:keyPath:takesString:qomPath:)`` decides
/// which, from the command and the member's type in the schema), and leaves the rest to it.
public struct LiveCompleter: ArgumentCompleting {
    private let inner: any ArgumentCompleting
    private let schema: @Sendable () -> QMPSchema?
    private let live: LiveValues

    /// Completes with `live` in front of `inner`, reading the schema through `schema`.
    public init(
        inner: any ArgumentCompleting, schema: @escaping @Sendable () -> QMPSchema?, live: LiveValues
    ) {
        self.inner = inner
        self.schema = schema
        self.live = live
    }

    public func complete(command: String, word: String, lineBeforeCursor: String) -> CompletionResult {
        liveCompletion(command: command, word: word, lineBeforeCursor: lineBeforeCursor)
            ?? inner.complete(command: command, word: word, lineBeforeCursor: lineBeforeCursor)
    }

    private func liveCompletion(command: String, word: String, lineBeforeCursor: String) -> CompletionResult? {
        guard !command.hasPrefix("."), command != "transaction(", let equals = word.firstIndex(of: "="),
            let schema = schema(), let entry = schema.commands[command]
        else { return nil }
        let keyPath = word[..<equals].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let valuePrefix = String(word[word.index(after: equals)...])
        var typed = TypedValues()
        let before = lineBeforeCursor.dropLast(word.count)
        for token in (try? ArgumentTokenizer.tokenize(before)) ?? [] {
            if case .argument(let argument) = token.kind { typed[argument.keyPath] = argument.text }
        }
        let takesString: Bool
        switch schema.lookUp(keyPath, in: entry.argumentType, typed: typed) {
        case .member(let member): takesString = Self.takesString(member.typeName, in: schema)
        // device_add's driver properties (`drive=`, `chardev=`, `netdev=`) are not in the schema.
        case .unknown where schema.hasOpenArguments(command): takesString = true
        default: return nil
        }
        guard
            let kind = LiveValueKind.kind(
                command: command, keyPath: keyPath, takesString: takesString,
                qomPath: typed[["path"]])
        else { return nil }
        if case .qomChildren = kind { return qomPathCompletion(valuePrefix) }
        let values = live.values(kind) ?? []
        return CompletionResult(
            replacementLength: valuePrefix.count,
            candidates: values.filter { $0.hasPrefix(valuePrefix) }.map { $0 + " " })
    }

    /// A QOM path a level at a time: the names below the part typed up to its last `/`, each
    /// with a `/` to go on (`/machine/unattached/`).
    private func qomPathCompletion(_ typed: String) -> CompletionResult {
        guard let slash = typed.lastIndex(of: "/") else {
            return CompletionResult(replacementLength: typed.count, candidates: "/".hasPrefix(typed) ? ["/"] : [])
        }
        let parent = slash == typed.startIndex ? "/" : String(typed[..<slash])
        let prefix = String(typed[typed.index(after: slash)...])
        let names = live.values(.qomChildren(of: parent)) ?? []
        return CompletionResult(
            replacementLength: prefix.count, candidates: names.filter { $0.hasPrefix(prefix) }.map { $0 + "/" })
    }

    /// Whether a member of this type can hold a name: a string, or an alternate with a string
    /// branch (`BlockdevRef`: a node name or a new node's options).
    static func takesString(_ typeName: String, in schema: QMPSchema) -> Bool {
        if typeName == "str" { return true }
        if case .alternate(let branches)? = schema.type(named: typeName)?.kind {
            return branches.contains("str")
        }
        return false
    }
}
