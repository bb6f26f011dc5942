/// One entry of the schema that describes values: a builtin, an enum, an array, an alternate or
/// an object (plain, or a union with a tag and variants).
///
/// Names other than the builtins' are opaque (`"123"`): QEMU numbers its types in introspection,
/// so they are references, never something to show a user.
public struct SchemaType: Sendable {
    /// What values of the type look like.
    public enum Kind: Sendable {
        /// `str`, `int`, `number`, `bool`, `null` or `any`; every integer type (`size`, `uint8`,
        /// ...) is introspected as `int`.
        case builtin(Builtin)
        /// One of these strings.
        case enumeration([String])
        /// A JSON array of values of the named type.
        case array(elementType: String)
        /// A value of any one of the named types; QEMU tells them apart by their JSON kind.
        case alternate([String])
        /// A JSON object.
        case object(ObjectType)
    }

    /// The builtin types, by their JSON kind.
    public enum Builtin: String, Sendable {
        case string, int, number, boolean, null
        /// `any`: whatever JSON value.
        case value
    }

    public let name: String
    public let kind: Kind

    public init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }
}

/// An object type: its members, and for a union the member whose value picks a variant, whose
/// members then come on top.
public struct ObjectType: Sendable {
    public let members: [SchemaMember]
    /// The discriminator of a union: the member whose value picks the variant.
    public let tag: String?
    /// A union's variants, in schema order: for each value of the tag, the object type that adds
    /// its members.
    public let variants: [Variant]

    public struct Variant: Sendable {
        /// The value of the tag that selects this variant.
        public let tagValue: String
        /// The object type whose members the variant adds.
        public let typeName: String
    }

    public init(members: [SchemaMember], tag: String? = nil, variants: [Variant] = []) {
        self.members = members
        self.tag = tag
        self.variants = variants
    }

    /// The member called `name`, if the object declares one (variants not included).
    public func member(named name: String) -> SchemaMember? {
        members.first { $0.name == name }
    }

    /// The object type of the variant for `tagValue`.
    public func variantType(for tagValue: String) -> String? {
        variants.first { $0.tagValue == tagValue }?.typeName
    }
}

/// A member of an object type.
public struct SchemaMember: Sendable {
    public let name: String
    public let typeName: String
    /// Optional members carry `"default": null` in the schema.
    public let isOptional: Bool
    /// `deprecated`, `unstable`, ...
    public let features: [String]

    public init(name: String, typeName: String, isOptional: Bool, features: [String] = []) {
        self.name = name
        self.typeName = typeName
        self.isOptional = isOptional
        self.features = features
    }
}
