extension QMPSchema {
    /// A short, readable name for the type called `name`: `str`, `int`, `bool`, `ppm|png` for an
    /// enum, `[int]`, `object`, `object|str` for an alternate. Enums longer than `enumLimit`
    /// characters read `enum`.
    public func describe(_ name: String, enumLimit: Int = .max) -> String {
        describe(name, enumLimit: enumLimit, inside: [])
    }

    /// `inside`: the arrays and alternates being described around this one. The schema refuses a
    /// type made of itself, but a walk should not need that to end.
    private func describe(_ name: String, enumLimit: Int, inside: Set<String>) -> String {
        guard let type = type(named: name) else { return name }
        if inside.contains(name) { return "..." }
        switch type.kind {
        case .builtin(let builtin):
            return Self.builtinName(builtin)
        case .enumeration(let values):
            let joined = values.joined(separator: "|")
            return joined.count <= enumLimit ? joined : "enum"
        case .array(let element):
            return "[" + describe(element, enumLimit: 0, inside: inside.union([name])) + "]"
        case .alternate(let branches):
            return branches.map { describe($0, enumLimit: 0, inside: inside.union([name])) }.joined(separator: "|")
        case .object:
            return "object"
        }
    }

    /// What a value of the type called `name` must be, for an error message: `an integer (int)`,
    /// `true or false`, `one of ppm, png`.
    public func expectation(_ name: String) -> String {
        guard let type = type(named: name) else { return name }
        switch type.kind {
        case .builtin(.string): return "a string (str)"
        case .builtin(.int): return "an integer (int)"
        case .builtin(.number): return "a number"
        case .builtin(.boolean): return "true or false (bool)"
        case .builtin(.null): return "null"
        case .builtin(.value): return "a JSON value"
        case .enumeration(let values): return "one of " + values.joined(separator: ", ")
        case .array: return "a list " + describe(name, enumLimit: 0) + " written [...]"
        case .alternate: return describe(name, enumLimit: 0)
        case .object: return "an object ({...} or dotted keys)"
        }
    }

    static func builtinName(_ builtin: SchemaType.Builtin) -> String {
        switch builtin {
        case .string: "str"
        case .int: "int"
        case .number: "number"
        case .boolean: "bool"
        case .null: "null"
        case .value: "any"
        }
    }
}
