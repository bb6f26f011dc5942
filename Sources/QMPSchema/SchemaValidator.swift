import QMP

/// Checks a command's arguments against the schema before they are sent: required members
/// present, no unknown members, enum values known, JSON kinds right, at every depth (values
/// given in brackets included). Union variants are picked by the tag's value in the arguments.
///
/// Raw JSON lines are never checked (the runner does not ask); commands the schema does not know
/// are left to QEMU.
public struct SchemaValidator: Sendable {
    public let schema: QMPSchema

    public init(schema: QMPSchema) {
        self.schema = schema
    }

    /// The first problem with `arguments` as the arguments of `command`, as a message naming the
    /// argument; `nil` if there is none or the schema does not know the command.
    public func problem(command: String, arguments: JSONObject) -> String? {
        guard let entry = schema.commands[command] else { return nil }
        if command == "transaction", let actions = arguments["actions"]?.arrayValue {
            if let problem = problem(inActions: actions) { return problem }
            var rest = arguments
            rest["actions"] = nil
            return problem(
                with: .object(rest), type: entry.argumentType, path: [], subject: command, open: false,
                skip: ["actions"])
        }
        return problem(
            with: .object(arguments), type: entry.argumentType, path: [], subject: command,
            open: schema.hasOpenArguments(command))
    }

    /// Each action of a transaction against its own data type, so messages name the action.
    private func problem(inActions actions: [JSONValue]) -> String? {
        let names = schema.transactionActionNames
        for (index, action) in actions.enumerated() {
            guard let type = action["type"]?.stringValue else { continue }
            let subject = "transaction action \(index + 1) '\(type)'"
            guard let dataType = schema.transactionActionType(type) else {
                return "unknown transaction action '\(type)'" + Suggestion.clause(for: type, among: names)
            }
            if let problem = problem(
                with: action["data"] ?? .object([:]), type: dataType, path: [], subject: subject, open: false)
            {
                return problem
            }
        }
        return nil
    }

    /// The first problem with `value` as a value of the type `type`, found at `path`.
    /// `open`: an object that may have members it does not declare (`device_add`'s arguments).
    private func problem(
        with value: JSONValue, type: String, path: [String], subject: String, open: Bool, skip: Set<String> = []
    ) -> String? {
        guard let kind = schema.type(named: type)?.kind else { return nil }
        let name = Self.render(path)
        func mismatch() -> String {
            "'\(name)' expects \(schema.expectation(type)), got \(value.serialized().prefix(60))"
        }
        switch kind {
        case .builtin(let builtin):
            return Self.matches(value, builtin) ? nil : mismatch()
        case .enumeration(let values):
            guard let text = value.stringValue else { return mismatch() }
            if values.contains(text) { return nil }
            return "'\(name)' expects \(schema.expectation(type)); got '\(text)'"
                + Suggestion.clause(for: text, among: values)
        case .array(let element):
            guard let elements = value.arrayValue else { return mismatch() }
            for (index, item) in elements.enumerated() {
                var itemPath = path
                itemPath[itemPath.count - 1] += "[\(index)]"
                if let problem = problem(with: item, type: element, path: itemPath, subject: subject, open: false) {
                    return problem
                }
            }
            return nil
        case .alternate(let branches):
            // QEMU picks the branch by the value's JSON kind.
            for branch in branches where fitsKind(value, branch) {
                return problem(with: value, type: branch, path: path, subject: subject, open: false)
            }
            return mismatch()
        case .object:
            guard let object = value.objectValue else { return mismatch() }
            return problem(with: object, type: type, path: path, subject: subject, open: open, skip: skip)
        }
    }

    private func problem(
        with object: JSONObject, type: String, path: [String], subject: String, open: Bool, skip: Set<String>
    ) -> String? {
        guard let declared = schema.objectType(named: type) else { return nil }
        // The tags of a union (and of a variant that is a union itself) are members of this object.
        var typed = TypedValues()
        for member in object {
            if let text = member.value.stringValue { typed[[member.key]] = text }
        }
        guard let set = schema.memberSet(of: type, at: [], typed: typed) else { return nil }
        let members = set.members
        let names = members.map(\.name)
        for member in object where !skip.contains(member.key) {
            guard let declaredMember = members.first(where: { $0.name == member.key }) else {
                if open { continue }
                if set.undecidedTag != nil, set.variantMembers.contains(where: { $0.name == member.key }) { continue }
                let full = Self.render(path + [member.key])
                let suggestion = Suggestion.closest(to: member.key, among: names + set.variantMembers.map(\.name)).map {
                    " (did you mean '\(Self.render(path + [$0]))'?)"
                }
                return "unknown argument '\(full)' for \(subject)" + (suggestion ?? "")
            }
            if let problem = problem(
                with: member.value, type: declaredMember.typeName, path: path + [member.key], subject: subject,
                open: false)
            {
                return problem
            }
        }
        for member in members where !member.isOptional && object[member.name] == nil && !skip.contains(member.name) {
            var because = ""
            if let tag = declared.tag, let value = typed[[tag]], member.name != tag,
                !declared.members.contains(where: { $0.name == member.name })
            {
                because = " with \(Self.render(path + [tag]))=\(value)"
            }
            return
                "missing argument '\(Self.render(path + [member.name]))' (\(schema.describe(member.typeName, enumLimit: 40))) "
                + "for \(subject)\(because)"
        }
        return nil
    }

    /// Whether `value` has the JSON kind of the type `type` (for choosing an alternate's branch).
    private func fitsKind(_ value: JSONValue, _ type: String) -> Bool {
        switch schema.type(named: type)?.kind {
        case .builtin(let builtin)?: return Self.matches(value, builtin)
        case .enumeration?: return value.stringValue != nil
        case .array?: return value.arrayValue != nil
        case .object?: return value.objectValue != nil
        case .alternate?, nil: return false
        }
    }

    static func matches(_ value: JSONValue, _ builtin: SchemaType.Builtin) -> Bool {
        switch (builtin, value) {
        case (.value, _), (.string, .string), (.boolean, .bool), (.null, .null), (.number, .number): return true
        case (.int, .number(let number)): return number.isInteger
        default: return false
        }
    }

    /// `file.filename`, `host-nodes[1]`.
    static func render(_ path: [String]) -> String {
        path.joined(separator: ".")
    }
}
