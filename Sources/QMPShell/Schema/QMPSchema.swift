import QMP

/// QEMU's QMP schema, read from what `query-qmp-schema` returns: the commands with their argument
/// types, the events with the types of their `data`, and every type they refer to.
///
/// Entries of unknown meta-types and unknown fields are ignored, so a newer QEMU still loads.
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
    private let types: [String: SchemaType]

    /// Reads the `return` value of `query-qmp-schema`.
    ///
    /// - Throws: ``SchemaError`` if it is not an array of entries, or a command, event or member
    ///   refers to a type that is not there.
    public init(introspection: JSONValue) throws(SchemaError) {
        guard let entries = introspection.arrayValue else { throw SchemaError("the schema is not a JSON array") }
        var commands: [String: Entry] = [:]
        var events: [String: Entry] = [:]
        var types: [String: SchemaType] = [:]
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
                }
            }
        }
        self.commands = commands
        self.events = events
        self.types = types
        commandNames = commands.keys.sorted()
        eventNames = events.keys.sorted()
        try checkReferences()
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
            guard let members = object["members"]?.arrayValue else { throw SchemaError("object \(name) has no members") }
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

/// A schema that cannot be read.
public struct SchemaError: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}
