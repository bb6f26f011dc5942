import QMP

/// QEMU's QMP schema, read from what `query-qmp-schema` returns: the commands with their argument
/// types, the events with the types of their `data`, and every type they refer to.
///
/// Unknown fields are ignored, so a newer QEMU still loads. An entry of a meta-type the model does
/// not know is kept as a type of any value (what refers to it is sent as typed, unchecked), and
/// ``skipped`` says so: the rest of the schema still types and checks.
public struct QMPSchema: Sendable {
    /// A command or an event: its name and the object type of its arguments (or `data`).
    public struct Entry: Sendable {
        public let name: String
        /// The object type of the arguments; an empty object for none.
        public let argumentType: String
        /// `deprecated`, `unstable`, ...
        public let features: [String]
    }

    public let commands: [String: Entry]
    public let events: [String: Entry]
    /// Command and event names, sorted, for completion.
    public let commandNames: [String]
    public let eventNames: [String]
    /// The commands that take more arguments than they declare, in this QEMU version
    /// (``OpenArguments``): `device_add`, and `netdev_add` or `object-add` in some versions.
    public let openCommands: Set<String>
    /// What the model could not hold (entries of unknown meta-types), as one sentence for the
    /// user; `nil` when it holds everything.
    public let skipped: String?
    private let types: [String: SchemaType]

    /// Reads the `return` value of `query-qmp-schema` of QEMU `version` (`nil`: current QEMU).
    ///
    /// - Throws: ``SchemaError`` if it is not an array of entries, or it does not hold together:
    ///   a reference to a type that is not there, a type made of itself through arrays and
    ///   alternates alone (`A = [A]`, `A = A|str`), or an object type no finite value can have
    ///   (its required members lead back to it with no way out). Recursion the way QEMU's schemas
    ///   have it, through an optional member, an array or an alternate with another branch, is
    ///   fine.
    public init(introspection: JSONValue, version: QEMUVersion? = nil) throws(SchemaError) {
        guard let entries = introspection.arrayValue else { throw SchemaError("the schema is not a JSON array") }
        var commands: [String: Entry] = [:]
        var events: [String: Entry] = [:]
        var types: [String: SchemaType] = [:]
        var unknown: [String: [String]] = [:]
        for entry in entries {
            guard case .object(let object) = entry, let name = object["name"]?.stringValue,
                let metaType = object["meta-type"]?.stringValue
            else { throw SchemaError("a schema entry has no name or meta-type") }
            let features = object["features"]?.arrayValue?.compactMap(\.stringValue) ?? []
            switch metaType {
            case "command", "event":
                guard let argumentType = object["arg-type"]?.stringValue else {
                    throw SchemaError("\(metaType) \(name) has no arg-type")
                }
                let item = Entry(name: name, argumentType: argumentType, features: features)
                if metaType == "command" { commands[name] = item } else { events[name] = item }
            default:
                if let kind = try Self.kind(of: object, metaType: metaType, name: name) {
                    types[name] = SchemaType(name: name, kind: kind)
                } else {
                    // Kept so that references resolve; its values go unchecked.
                    types[name] = SchemaType(name: name, kind: .builtin(.value))
                    unknown[metaType, default: []].append(name)
                }
            }
        }
        self.commands = commands
        self.events = events
        self.types = types
        commandNames = commands.keys.sorted()
        eventNames = events.keys.sorted()
        openCommands = OpenArguments.commands(in: version)
        skipped = unknown.isEmpty ? nil : Self.describeSkipped(unknown, commands: commands, types: types)
        try checkReferences()
        try checkCycles()
    }

    /// Whether `command` takes arguments the schema does not declare.
    public func hasOpenArguments(_ command: String) -> Bool {
        openCommands.contains(command)
    }

    /// `unknown` (names by meta-type) and the commands whose arguments reach them, in one sentence.
    private static func describeSkipped(
        _ unknown: [String: [String]], commands: [String: Entry], types: [String: SchemaType]
    ) -> String {
        let count = unknown.values.map(\.count).reduce(0, +)
        let kinds = unknown.keys.sorted().map { "'\($0)'" }.joined(separator: ", ")
        let entries = count == 1 ? "entry" : "entries"
        var text = "the schema has \(count) \(entries) of a meta-type this shell does not know (\(kinds))"
        let targets = Set(unknown.values.joined())
        let affected = commands.keys.sorted().filter { reaches(commands[$0]!.argumentType, targets, in: types) }
        if affected.isEmpty { return text + "; nothing refers to them" }
        let more = affected.count > 5 ? " and \(affected.count - 5) more" : ""
        let shown = affected.prefix(5).joined(separator: ", ") + more
        text += "; the arguments of \(shown) that use them are sent unchecked"
        return text
    }

    /// Whether the type `name` is one of `targets` or contains one, at any depth.
    private static func reaches(_ name: String, _ targets: Set<String>, in types: [String: SchemaType]) -> Bool {
        var seen: Set<String> = []
        var pending = [name]
        while let next = pending.popLast() {
            if targets.contains(next) { return true }
            guard seen.insert(next).inserted else { continue }
            switch types[next]?.kind {
            case .array(let element)?: pending.append(element)
            case .alternate(let branches)?: pending += branches
            case .object(let object)?: pending += object.members.map(\.typeName) + object.variants.map(\.typeName)
            case .builtin?, .enumeration?, nil: break
            }
        }
        return false
    }

    /// The type called `name`.
    public func type(named name: String) -> SchemaType? {
        types[name]
    }

    /// The object type called `name`, or the object branch of the alternate called `name`.
    public func objectType(named name: String) -> ObjectType? {
        guard let type = types[name] else { return nil }
        switch type.kind {
        case .object(let object): return object
        case .alternate(let branches):
            for branch in branches {
                if case .object(let object)? = types[branch]?.kind { return object }
            }
            return nil
        default: return nil
        }
    }

    /// The argument object of the data of the transaction action `action` (`abort`,
    /// `block-dirty-bitmap-add`, ...): each action's variant wraps its arguments in `data`.
    public func transactionActionType(_ action: String) -> String? {
        guard let variant = transactionActions?.variantType(for: action) else { return nil }
        return objectType(named: variant)?.member(named: "data")?.typeName
    }

    /// The values the tag of a transaction action may take.
    public var transactionActionNames: [String] {
        transactionActions?.variants.map(\.tagValue).sorted() ?? []
    }

    /// The union of the elements of `transaction`'s `actions`, tagged by `type`.
    private var transactionActions: ObjectType? {
        guard let transaction = commands["transaction"], let arguments = objectType(named: transaction.argumentType),
            let list = arguments.member(named: "actions"), case .array(let element)? = types[list.typeName]?.kind
        else { return nil }
        return objectType(named: element)
    }

    // MARK: - Reading entries

    private static func kind(of object: JSONObject, metaType: String, name: String) throws(SchemaError)
        -> SchemaType.Kind?
    {
        switch metaType {
        case "builtin":
            let jsonType = object["json-type"]?.stringValue ?? ""
            return .builtin(SchemaType.Builtin(rawValue: jsonType) ?? .value)
        case "enum":
            guard let values = object["values"]?.arrayValue else { throw SchemaError("enum \(name) has no values") }
            return .enumeration(values.compactMap(\.stringValue))
        case "array":
            guard let element = object["element-type"]?.stringValue else {
                throw SchemaError("array \(name) has no element-type")
            }
            return .array(elementType: element)
        case "alternate":
            guard let members = object["members"]?.arrayValue else {
                throw SchemaError("alternate \(name) has no members")
            }
            return .alternate(members.compactMap { $0["type"]?.stringValue })
        case "object":
            guard let members = object["members"]?.arrayValue else {
                throw SchemaError("object \(name) has no members")
            }
            var list: [SchemaMember] = []
            list.reserveCapacity(members.count)
            for member in members {
                guard let memberName = member["name"]?.stringValue, let typeName = member["type"]?.stringValue else {
                    throw SchemaError("a member of object \(name) has no name or type")
                }
                list.append(
                    SchemaMember(
                        name: memberName, typeName: typeName, isOptional: member["default"] != nil,
                        features: member["features"]?.arrayValue?.compactMap(\.stringValue) ?? []))
            }
            let variants = (object["variants"]?.arrayValue ?? []).compactMap { variant -> ObjectType.Variant? in
                guard let tagValue = variant["case"]?.stringValue, let typeName = variant["type"]?.stringValue else {
                    return nil
                }
                return ObjectType.Variant(tagValue: tagValue, typeName: typeName)
            }
            return .object(ObjectType(members: list, tag: object["tag"]?.stringValue, variants: variants))
        default:
            return nil
        }
    }

    /// Every reference resolves, so that lookups never meet a dangling name.
    private func checkReferences() throws(SchemaError) {
        func check(_ name: String, from owner: String) throws(SchemaError) {
            guard types[name] != nil else { throw SchemaError("\(owner) refers to a missing type '\(name)'") }
        }
        for entry in commands.values { try check(entry.argumentType, from: "command \(entry.name)") }
        for entry in events.values { try check(entry.argumentType, from: "event \(entry.name)") }
        for type in types.values {
            switch type.kind {
            case .builtin, .enumeration: break
            case .array(let element): try check(element, from: "array \(type.name)")
            case .alternate(let branches):
                for branch in branches { try check(branch, from: "alternate \(type.name)") }
            case .object(let object):
                for member in object.members { try check(member.typeName, from: "object \(type.name)") }
                for variant in object.variants { try check(variant.typeName, from: "object \(type.name)") }
            }
        }
    }
}

extension QMPSchema {
    /// Refuses the cycles that have no end (see ``init(introspection:version:)``), so that no
    /// walk of the schema has to guess where to stop.
    private func checkCycles() throws(SchemaError) {
        try checkContainment()
        try checkFiniteObjects()
    }

    /// No type contains itself through array elements and alternate branches alone: describing
    /// its values (`[[[...]]]`) or offering them would never end, and QEMU never writes one.
    private func checkContainment() throws(SchemaError) {
        // Depth-first, without recursion (a hostile schema can nest deeper than the stack).
        var done = Set<String>()
        for start in types.keys.sorted() where !done.contains(start) {
            var onPath = Set<String>()
            var stack: [(name: String, next: Int)] = [(start, 0)]
            onPath.insert(start)
            while let top = stack.last {
                let children = containedTypes(of: top.name)
                if top.next == children.count {
                    stack.removeLast()
                    onPath.remove(top.name)
                    done.insert(top.name)
                    continue
                }
                stack[stack.count - 1].next += 1
                let child = children[top.next]
                if onPath.contains(child) {
                    throw SchemaError("type '\(child)' is made of itself (through arrays and alternates alone)")
                }
                if done.contains(child) { continue }
                onPath.insert(child)
                stack.append((child, 0))
            }
        }
    }

    /// The types a value of `name` is directly made of without an object in between.
    private func containedTypes(of name: String) -> [String] {
        switch types[name]?.kind {
        case .array(let element)?: return [element]
        case .alternate(let branches)?: return branches
        default: return []
        }
    }

    /// Every object type has a finite value: one whose required members all have finite values.
    /// Scalars, enums and arrays (`[]`) always do; an alternate does if one of its branches does.
    /// Worked out from the scalars upwards, each reference looked at once.
    private func checkFiniteObjects() throws(SchemaError) {
        var waitingOn: [String: Int] = [:]
        var users: [String: [String]] = [:]
        var finite = Set<String>()
        var ready: [String] = []
        for (name, type) in types {
            switch type.kind {
            case .builtin, .enumeration, .array:
                ready.append(name)
            case .alternate(let branches):
                for branch in Set(branches) { users[branch, default: []].append(name) }
            case .object(let object):
                let required = Set(object.members.filter { !$0.isOptional }.map(\.typeName))
                waitingOn[name] = required.count
                for member in required { users[member, default: []].append(name) }
                if required.isEmpty { ready.append(name) }
            }
        }
        while let name = ready.popLast() {
            guard finite.insert(name).inserted else { continue }
            for user in users[name] ?? [] where !finite.contains(user) {
                if case .object? = types[user]?.kind {
                    waitingOn[user, default: 0] -= 1
                    if waitingOn[user] == 0 { ready.append(user) }
                } else {
                    ready.append(user)
                }
            }
        }
        if let endless = types.keys.sorted().first(where: { !finite.contains($0) }) {
            let what: String
            if case .alternate? = types[endless]?.kind { what = "alternate" } else { what = "object" }
            throw SchemaError(
                "\(what) \(endless) has no finite value: its required members lead back to it without end")
        }
    }
}

/// A schema that cannot be read.
public struct SchemaError: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}
