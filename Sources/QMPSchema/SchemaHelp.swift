/// `.help COMMAND` and `.help EVENT`: the arguments (or event data) from the schema, one per line,
/// optional ones (or data members that may be absent) in brackets, in 80 columns:
///
///     screendump (command)
///       filename=str
///       [device=str]
///       [head=int]
///       [format=enum]               ppm png
///
/// Members of nested objects appear with dotted names (`[cache.direct=bool]`). A union shows its
/// own members, then the members of the variants picked by `tag=value` words after the name
/// (`.help blockdev-add driver=qcow2`), or says how to pick one.
public struct SchemaHelp: Sendable {
    public let schema: QMPSchema
    /// The line width to fit in.
    public var width = 80

    /// Where the second column (enum values, alternates) starts.
    private let valueColumn = 30

    public init(schema: QMPSchema) {
        self.schema = schema
    }

    /// The help for the command or event `name`, with union variants picked by `selection`
    /// (`driver=qcow2`, `backend.type=file`); `nil` if the schema has neither.
    public func text(for name: String, selection: TypedValues = [:]) -> String? {
        let entry: QMPSchema.Entry
        let what: String
        if let command = schema.commands[name] {
            entry = command
            what = "command"
        } else if let event = schema.events[name] {
            entry = event
            what = "event"
        } else {
            return nil
        }
        var lines: [String] = []
        let features = entry.features.map { "; " + $0 }.joined()
        let chosen = selection.sorted { $0.key.lexicographicallyPrecedes($1.key) }
            .map { " \($0.key.joined(separator: "."))=\($0.value)" }.joined()
        var hints: [String] = []
        addMembers(
            of: entry.argumentType, path: [], optional: false, selection: selection, to: &lines, hints: &hints, seen: []
        )
        if lines.isEmpty {
            return "\(name)\(chosen) (\(what), \(what == "event" ? "no data" : "no arguments")\(features))\n"
        }
        lines.insert("\(name)\(chosen) (\(what)\(features))", at: 0)
        for tag in hints {
            lines.append("  more members with each \(tag)=VALUE (add it to .help)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: - Members

    /// Adds the lines of `typeName`'s members below `path`; `features` are those of the members
    /// the path goes through (an `unstable` object's members are unstable too).
    private func addMembers(
        of typeName: String, path: [String], optional: Bool, features: [String] = [], selection: TypedValues,
        to lines: inout [String], hints: inout [String], seen: Set<String>
    ) {
        guard let object = schema.objectType(named: typeName), !seen.contains(typeName), path.count < 6,
            let set = schema.memberSet(of: typeName, at: path, typed: selection)
        else { return }
        let seen = seen.union([typeName])
        for member in set.members {
            let memberPath = path + [member.name]
            let isOptional = optional || member.isOptional
            let name = memberPath.joined(separator: ".")
            let memberFeatures = features + member.features.filter { !features.contains($0) }
            // A member of an object type it is already inside (recursion) is shown as `object`.
            if case .object(let nested)? = schema.type(named: member.typeName)?.kind, !nested.members.isEmpty,
                !seen.contains(member.typeName), memberPath.count < 6
            {
                addMembers(
                    of: member.typeName, path: memberPath, optional: isOptional, features: memberFeatures,
                    selection: selection, to: &lines, hints: &hints, seen: seen)
                continue
            }
            if member.name == object.tag, let value = selection[memberPath] {
                lines.append("  \(name)=\(value)")
                continue
            }
            lines += memberLines(name: name, member: member, optional: isOptional, features: memberFeatures)
        }
        if set.undecidedTag != nil, let tag = object.tag {
            hints.append((path + [tag]).joined(separator: "."))
        }
    }

    /// `  [format=enum]               ppm png`, wrapped.
    private func memberLines(name: String, member: SchemaMember, optional: Bool, features: [String]) -> [String] {
        var left = "\(name)=\(schema.describe(member.typeName, enumLimit: 0))"
        if optional { left = "[\(left)]" }
        left = "  " + left
        if !features.isEmpty { left += " (\(features.joined(separator: ", ")))" }
        let values = enumValues(of: member.typeName)
        guard !values.isEmpty else { return [left] }
        var lines: [String] = []
        var line = left.count < valueColumn ? left + String(repeating: " ", count: valueColumn - left.count) : nil
        if line == nil { lines.append(left) }
        let indent = String(repeating: " ", count: valueColumn)
        for value in values {
            if var current = line {
                if current.count + 1 + value.count > width && current.count > valueColumn {
                    lines.append(current)
                    current = indent + value
                } else {
                    current += (current.count > valueColumn ? " " : "") + value
                }
                line = current
            } else {
                line = indent + value
            }
        }
        if let line { lines.append(line) }
        return lines
    }

    /// The enum values a type takes (through an alternate's enum branch too); `inside`: the
    /// arrays and alternates walked through, so that the walk ends whatever the schema.
    private func enumValues(of typeName: String, inside: Set<String> = []) -> [String] {
        guard !inside.contains(typeName) else { return [] }
        let inside = inside.union([typeName])
        switch schema.type(named: typeName)?.kind {
        case .enumeration(let values)?: return values
        case .alternate(let branches)?: return branches.flatMap { enumValues(of: $0, inside: inside) }
        case .array(let element)?: return enumValues(of: element, inside: inside)
        default: return []
        }
    }
}
