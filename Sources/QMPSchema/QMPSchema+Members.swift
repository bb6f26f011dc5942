/// The text typed for each key path of a line's arguments: what picks a union's variant.
public typealias TypedValues = [[String]: String]

/// What an object offers at a key path, given the values typed so far.
public struct MemberSet: Sendable {
    /// The object's own members, then those of the variant its tag's value picks.
    public var members: [SchemaMember]
    /// A union whose tag has no value (or an unknown one) yet: its name.
    public var undecidedTag: String?
    /// The members some variant would add while the tag is undecided (first occurrence of each
    /// name, in schema order).
    public var variantMembers: [SchemaMember] = []

    /// The member called `name`, among the members (not the undecided variants').
    public func member(named name: String) -> SchemaMember? {
        members.first { $0.name == name }
    }
}

/// Where a key path leads from an object type.
public enum KeyLookup: Sendable {
    /// The member the key names.
    case member(SchemaMember)
    /// `path[index]` names nothing there; `candidates` are the names that would have been right.
    case unknown(index: Int, candidates: [String])
    /// It cannot be told: the key goes into an `any` value, or into a variant whose tag has no
    /// value yet and whose possible variants disagree.
    case undetermined
}

extension QMPSchema {
    /// The members of the object type `typeName` (or an alternate's object branch) found at
    /// `path`; a union adds the members of the variant picked by the value typed for
    /// `path + [tag]`. `nil` if the type is not an object.
    public func memberSet(of typeName: String, at path: [String], typed: TypedValues) -> MemberSet? {
        guard let object = objectType(named: typeName) else { return nil }
        var set = MemberSet(members: object.members)
        addVariants(of: object, at: path, typed: typed, to: &set, depth: 0)
        return set
    }

    private func addVariants(
        of object: ObjectType, at path: [String], typed: TypedValues, to set: inout MemberSet, depth: Int
    ) {
        guard let tag = object.tag, depth < 8 else { return }
        if let value = typed[path + [tag]], let variant = object.variantType(for: value),
            let variantObject = objectType(named: variant)
        {
            set.members += variantObject.members
            addVariants(of: variantObject, at: path, typed: typed, to: &set, depth: depth + 1)
            return
        }
        set.undecidedTag = set.undecidedTag ?? tag
        var seen = Set(set.members.map(\.name)).union(set.variantMembers.map(\.name))
        for variant in object.variants {
            for member in objectType(named: variant.typeName)?.members ?? [] where seen.insert(member.name).inserted {
                set.variantMembers.append(member)
            }
        }
    }

    /// Follows `keyPath` from the object type `typeName`, through nested objects and the object
    /// branches of alternates, choosing union variants by `typed`.
    public func lookUp(_ keyPath: [String], in typeName: String, typed: TypedValues) -> KeyLookup {
        var current = typeName
        var found: SchemaMember?
        for (index, name) in keyPath.enumerated() {
            if case .builtin(.value)? = type(named: current)?.kind { return .undetermined }
            guard let set = memberSet(of: current, at: Array(keyPath[..<index]), typed: typed) else {
                // A scalar given sub-keys: `name.x=1` where name is a str.
                return .unknown(index: index, candidates: [])
            }
            if let member = set.member(named: name) {
                found = member
            } else if let member = set.variantMembers.first(where: { $0.name == name }) {
                // Only some variants have it: usable if none of them disagree about its type.
                let others = allVariantMembers(named: name, of: current)
                guard others.allSatisfy({ $0.typeName == member.typeName }) else { return .undetermined }
                found = member
            } else {
                return .unknown(index: index, candidates: (set.members + set.variantMembers).map(\.name))
            }
            current = found!.typeName
        }
        return found.map(KeyLookup.member) ?? .undetermined
    }

    /// Every member called `name` in any variant of the object (or object branch) `typeName`.
    private func allVariantMembers(named name: String, of typeName: String) -> [SchemaMember] {
        guard let object = objectType(named: typeName) else { return [] }
        return object.variants.flatMap { variant in
            objectType(named: variant.typeName)?.members.filter { $0.name == name } ?? []
        }
    }
}
