import QMP

/// Collects `key=value` arguments into a nested object, refusing a key given twice, a key used
/// both as a value and as an object, and nesting deeper than QEMU accepts.
///
/// Each key is found with hash lookups along its dotted path, so a line of n arguments is built
/// in time linear in its length (100,000 `key=value` pairs take a fraction of a second); the
/// ordered ``JSONObject``, whose lookups scan its members, is made once at the end.
struct ArgumentsBuilder: Sendable {
    /// The deepest nesting QEMU's JSON parser accepts in a message (and ours, ``JSONParser``).
    static let maximumDepth = JSONParser.defaultMaxDepth
    /// The depth of a command's `arguments` object: inside the message (`{"arguments": {...}}`).
    static let commandArgumentsDepth = 2
    /// The depth of a transaction action's `data`: message, `arguments`, `actions` list, action.
    static let transactionDataDepth = 5

    /// An object made by dotted keys (or the arguments themselves), members in the order typed.
    private struct Node: Sendable {
        var keys: [String] = []
        var members: [String: Member] = [:]
    }

    private enum Member: Sendable {
        /// A value as given (an object given as a value is complete: `a.b=1` after it is a clash).
        case value(JSONValue)
        /// An object made by dotted keys, which may gain members: its index in `nodes`.
        case object(Int)
    }

    /// `nodes[0]` is the arguments object.
    private var nodes = [Node()]
    /// How deep the arguments object sits in the message that carries it (1 for the message itself).
    private let depth: Int

    /// Arguments for an object at `depth` in the message that is sent (QEMU counts from 1 for the
    /// message), so that no argument makes the message nest deeper than ``maximumDepth``.
    init(depth: Int) {
        self.depth = depth
    }

    var isEmpty: Bool { nodes[0].keys.isEmpty }

    /// Adds `argument` with its typed `value`; on error nothing changes.
    mutating func add(_ argument: ArgumentToken, value: JSONValue) throws(LineParseError) {
        let path = argument.keyPath
        if depth + path.count - 1 + Self.nesting(of: value) > Self.maximumDepth {
            throw Self.tooDeep(argument)
        }
        // Errors can only come from members that exist; once a member is new, so is the rest of
        // the path, so a failing add has created nothing.
        var node = 0
        for (position, part) in path.dropLast().enumerated() {
            switch nodes[node].members[part] {
            case .object(let child):
                node = child
            case .value:
                throw Self.clash(Array(path[...position]), argument)
            case nil:
                nodes.append(Node())
                nodes[node].members[part] = .object(nodes.count - 1)
                nodes[node].keys.append(part)
                node = nodes.count - 1
            }
        }
        let last = path[path.count - 1]
        switch nodes[node].members[last] {
        case .object: throw Self.clash(path, argument)
        case .value: throw LineParseError(column: argument.column, message: "key '\(argument.key)' given twice")
        case nil:
            nodes[node].members[last] = .value(value)
            nodes[node].keys.append(last)
        }
    }

    /// The arguments as a JSON object, members in the order first typed.
    var object: JSONObject { object(at: 0) }

    private func object(at index: Int) -> JSONObject {
        let node = nodes[index]
        return JSONObject(
            node.keys.map { key in
                switch node.members[key]! {
                case .value(let value): return JSONObject.Member(key: key, value: value)
                case .object(let child): return JSONObject.Member(key: key, value: .object(object(at: child)))
                }
            })
    }

    /// How many levels of objects and arrays `value` nests (0 for a scalar).
    private static func nesting(of value: JSONValue) -> Int {
        switch value {
        case .object(let object): return 1 + (object.lazy.map { nesting(of: $0.value) }.max() ?? 0)
        case .array(let array): return 1 + (array.lazy.map { nesting(of: $0) }.max() ?? 0)
        default: return 0
        }
    }

    private static func clash(_ path: [String], _ argument: ArgumentToken) -> LineParseError {
        LineParseError(
            column: argument.column,
            message: "key '\(path.joined(separator: "."))' used both as a value and as an object")
    }

    private static func tooDeep(_ argument: ArgumentToken) -> LineParseError {
        LineParseError(
            column: argument.column,
            message: "key '\(ArgumentTokenizer.abbreviated(argument.key))' nests deeper than \(maximumDepth) levels, "
                + "the most QEMU accepts")
    }
}
