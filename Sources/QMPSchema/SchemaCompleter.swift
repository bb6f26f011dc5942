import QMPLineSyntax

/// Completes arguments from the schema: argument names not given yet (`key=`), nested members
/// (`file.driver=`), enum values, `true`/`false`, union members picked by the tag's value typed on
/// the line, device types and properties for `device_add`, file names where a file is expected,
/// event names and their data members after `.wait`, event names after `.help`, and the actions
/// of a `transaction(` and their arguments.
///
/// It runs on the terminal thread on every Tab, so it only reads what is already there: the
/// loaded schema and the device catalog (whose first use starts a fetch in the background; a
/// later Tab has the answer). Without a schema it offers nothing and the ``Completer`` falls back
/// to command names.
public struct SchemaCompleter: ArgumentCompleting {
    private let schema: @Sendable () -> QMPSchema?
    private let devices: @Sendable () -> DeviceCatalog?

    /// A completer reading the schema and the device catalog through these closures.
    public init(schema: @escaping @Sendable () -> QMPSchema?, devices: @escaping @Sendable () -> DeviceCatalog?) {
        self.schema = schema
        self.devices = devices
    }

    /// A completer for the connections of `store`.
    public init(store: SchemaStore) {
        self.init(schema: { store.current }, devices: { store.devices })
    }

    public func complete(command: String, word: String, lineBeforeCursor: String) -> CompletionResult {
        guard let schema = schema() else { return .none }
        let before = String(lineBeforeCursor.dropLast(word.count))
        guard let tokens = try? ArgumentTokenizer.tokenize(before), tokens.count >= 1 else { return .none }
        let context = Context(tokens: tokens.dropFirst())
        switch command {
        case ".help":
            return tokens.count == 1 ? Self.matching(schema.eventNames, word) : .none
        case ".wait":
            return completeWait(schema, context: context, word: word)
        case "transaction(":
            return completeTransaction(schema, tokens: tokens.dropFirst(), word: word)
        default:
            guard let entry = schema.commands[command] else { return .none }
            // Only device_add's extra arguments can be listed (its driver's properties).
            let open = command == "device_add" && schema.hasOpenArguments(command)
            return completeArgument(
                schema, root: entry.argumentType, command: command, context: context, word: word, open: open)
        }
    }

    // MARK: - Owners

    private func completeWait(_ schema: QMPSchema, context: Context, word: String) -> CompletionResult {
        guard let event = context.words.first else { return Self.matching(schema.eventNames, word) }
        guard let entry = schema.events[event] else { return .none }
        var result = completeArgument(
            schema, root: entry.argumentType, command: ".wait", context: context, word: word, open: false)
        // A word without `=` or `.` is replaced whole, like `timeout=`.
        if !context.given.contains(["timeout"]) && "timeout".hasPrefix(word) {
            result = CompletionResult(replacementLength: word.count, candidates: result.candidates + ["timeout="])
        }
        return result
    }

    /// In `transaction( ACTION key=value ... word`: action names and `)`, and the arguments of the
    /// action being written.
    private func completeTransaction(_ schema: QMPSchema, tokens: ArraySlice<ArgumentTokenizer.Token>, word: String)
        -> CompletionResult
    {
        // The tokens of the action being written: those after its name.
        let start = tokens.lastIndex { if case .word = $0.kind { return true } else { return false } }
        var result = CompletionResult(replacementLength: word.count, candidates: [])
        if let start, case .word(let action) = tokens[start].kind, let data = schema.transactionActionType(action.text)
        {
            let context = Context(tokens: tokens[(start + 1)...])
            result = completeArgument(
                schema, root: data, command: "transaction", context: context, word: word, open: false)
        }
        // Action names have neither `=` nor `.`: for such a word both replace it whole.
        if !word.contains("=") && !word.contains(".") {
            let actions = Self.matching(schema.transactionActionNames + [")"], word).candidates
            result = CompletionResult(replacementLength: word.count, candidates: result.candidates + actions)
        }
        return result
    }

    // MARK: - Arguments

    /// The completions of `word` among the arguments of the object type `root`: a value after
    /// `=` (replacing the value typed, or for a file the name after its last `/`), or a member
    /// name (replacing what follows the word's last `.`).
    private func completeArgument(
        _ schema: QMPSchema, root: String, command: String, context: Context, word: String, open: Bool
    ) -> CompletionResult {
        let deviceProperties = open ? self.deviceProperties(context) : nil
        if let equals = word.firstIndex(of: "=") {
            let key = String(word[..<equals])
            let valuePrefix = String(word[word.index(after: equals)...])
            let keyPath = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            switch schema.lookUp(keyPath, in: root, typed: context.typed) {
            case .member(let member):
                if open && keyPath == ["driver"] {
                    return Self.matching(devices()?.typeNamesIfKnown() ?? [], valuePrefix)
                } else if Self.expectsPath(member: member, command: command) {
                    return PathCompletion.complete(valuePrefix)
                } else {
                    return Self.matching(Self.values(of: member.typeName, in: schema), valuePrefix)
                }
            case .unknown where keyPath.count == 1:
                let type = deviceProperties?.first { $0.name == key }?.type
                return Self.matching(type.map(Self.values(ofDeviceProperty:)) ?? [], valuePrefix)
            default:
                return .none
            }
        }

        let parts = word.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let parent = Array(parts.dropLast())
        let prefix = parts.last ?? ""
        let parentType: String
        if parent.isEmpty {
            parentType = root
        } else if case .member(let member) = schema.lookUp(parent, in: root, typed: context.typed) {
            parentType = member.typeName
        } else {
            return .none
        }
        guard let set = schema.memberSet(of: parentType, at: parent, typed: context.typed) else { return .none }
        var candidates: [String] = []
        for member in set.members where member.name.hasPrefix(prefix) && !context.given.contains(parent + [member.name])
        {
            candidates += Self.suffixes(for: member.typeName, in: schema).map { member.name + $0 }
        }
        if parent.isEmpty, let deviceProperties {
            let declared = Set(set.members.map(\.name))
            for property in deviceProperties
            where property.name.hasPrefix(prefix) && !declared.contains(property.name)
                && !context.given.contains([property.name])
            {
                candidates.append(property.name + "=")
            }
        }
        return CompletionResult(replacementLength: prefix.count, candidates: candidates.sorted())
    }

    /// For `device_add`: starts fetching the device types at the first Tab, and returns the
    /// properties of the driver typed on the line once known.
    private func deviceProperties(_ context: Context) -> [DeviceCatalog.Property]? {
        guard let catalog = devices() else { return nil }
        _ = catalog.typeNamesIfKnown()
        guard let driver = context.typed[["driver"]] else { return nil }
        return catalog.propertiesIfKnown(of: driver)
    }

    // MARK: - Values

    /// What may follow a member name: `=`, `.` for an object, both for an alternate with an
    /// object branch (`file.driver=...` or `file=node-name`).
    static func suffixes(for typeName: String, in schema: QMPSchema) -> [String] {
        switch schema.type(named: typeName)?.kind {
        case .object?: return ["."]
        case .alternate(let branches)?:
            let hasObject = branches.contains {
                if case .object? = schema.type(named: $0)?.kind { true } else { false }
            }
            return hasObject ? [".", "="] : ["="]
        default: return ["="]
        }
    }

    /// The values worth offering for the type `typeName`, each with a trailing space: an enum's
    /// values, `true`/`false`, `null`, and those of an alternate's branches.
    /// `inside`: the alternates walked through, so that the walk ends whatever the schema.
    static func values(of typeName: String, in schema: QMPSchema, inside: Set<String> = []) -> [String] {
        switch schema.type(named: typeName)?.kind {
        case .enumeration(let values)?: return values.map { $0 + " " }
        case .builtin(.boolean)?: return ["false ", "true "]
        case .builtin(.null)?: return ["null "]
        case .alternate(let branches)? where !inside.contains(typeName):
            return branches.flatMap { values(of: $0, in: schema, inside: inside.union([typeName])) }
        default: return []
        }
    }

    /// Values for a device property of a QOM type that has few.
    static func values(ofDeviceProperty type: String) -> [String] {
        switch type {
        case "bool": ["false ", "true "]
        case "OnOffAuto": ["auto ", "off ", "on "]
        case "OnOffSplit": ["off ", "on ", "split "]
        default: []
        }
    }

    /// Whether a `str` member names a file on the host, so Tab offers file names: members called
    /// `filename`, `logfile`, `mem-path`, `snapshot-file`, `backing-file`, `dir` or `file`, and
    /// `path` except where it is a QOM path (`qom-list`, `qom-get`, `qom-set`, `x-query-virtio-*`).
    static func expectsPath(member: SchemaMember, command: String) -> Bool {
        guard member.typeName == "str" else { return false }
        switch member.name {
        case "filename", "logfile", "mem-path", "snapshot-file", "backing-file", "dir", "file": return true
        case "path": return !command.hasPrefix("qom-") && !command.hasPrefix("x-query-virtio")
        default: return false
        }
    }

    /// `options` that start with `word`, each followed by a space unless it already ends with
    /// one, to replace `word`.
    static func matching(_ options: [String], _ word: String) -> CompletionResult {
        CompletionResult(
            replacementLength: word.count,
            candidates: options.filter { $0.hasPrefix(word) }.map { $0.hasSuffix(" ") ? $0 : $0 + " " })
    }

    /// What the earlier words of the line say: the keys given, the text typed for each, and the
    /// bare words (the event name of `.wait`).
    private struct Context {
        var given: Set<[String]> = []
        var typed = TypedValues()
        var words: [String] = []

        init(tokens: ArraySlice<ArgumentTokenizer.Token>) {
            for token in tokens {
                switch token.kind {
                case .word(let word): words.append(word.text)
                case .argument(let argument):
                    given.insert(argument.keyPath)
                    typed[argument.keyPath] = argument.text
                }
            }
        }
    }
}
