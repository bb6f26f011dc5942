import QMP

/// The QOM tree below a path, as `.qom-tree` shows it: each object with its type, its child
/// objects below it, and its other properties with their types and (when they can be read) values.
public struct QOMTree: Sendable {
    /// One property of an object, as `qom-list` (or `qom-list-get`) names it.
    public struct Property: Sendable, Equatable {
        public var name: String
        /// QOM's type text: `child<pc-i440fx-machine>`, `link<qemu:memory-region>`, `string`, …
        public var type: String
        /// The value, or `nil` when it cannot be read (write-only, or reading it failed).
        public var value: JSONValue?

        /// The type of the object a `child<T>` property holds, or `nil` for other properties.
        public var childType: String? { Self.inner(type, of: "child") }
        /// Whether the property points at another object (`link<T>`).
        public var isLink: Bool { Self.inner(type, of: "link") != nil }

        private static func inner(_ type: String, of kind: String) -> String? {
            guard type.hasPrefix(kind + "<"), type.hasSuffix(">") else { return nil }
            return String(type.dropFirst(kind.count + 1).dropLast())
        }
    }

    /// One object: its path, its QOM type, and its properties (children included) sorted by name.
    public struct Object: Sendable {
        public var path: String
        public var type: String
        public var depth: Int
        public var properties: [Property]
    }

    /// The objects in depth-first order, parents before their children.
    public var objects: [Object]

    /// Reads the tree below `root` with `client`; `listGet` uses `qom-list-get` (one round trip per
    /// level) where the server has it, else `qom-list` and a `qom-get` per leaf property.
    public static func read(
        below root: String, with client: QMPClient, useListGet: Bool, timeout: Duration?
    ) async throws(QMPError) -> QOMTree {
        let reader = Reader(client: client, useListGet: useListGet, timeout: timeout)
        var objects: [Object] = []
        var rootProperties = try await reader.properties(ofAll: [root])[0]
        let rootType = rootProperties.first { $0.name == "type" }?.value?.stringValue ?? "?"
        rootProperties.sort { $0.name < $1.name }
        var level = [Object(path: root, type: rootType, depth: 0, properties: rootProperties)]
        // Breadth-first reads (one batch per level), placed depth-first afterwards.
        var childrenOf: [String: [Object]] = [:]
        while !level.isEmpty {
            var next: [Object] = []
            var paths: [String] = []
            var types: [String] = []
            var depths: [Int] = []
            for object in level {
                for property in object.properties {
                    guard let type = property.childType else { continue }
                    paths.append(Self.join(object.path, property.name))
                    types.append(type)
                    depths.append(object.depth + 1)
                }
            }
            let read = try await reader.properties(ofAll: paths)
            for index in paths.indices {
                let child = Object(
                    path: paths[index], type: types[index], depth: depths[index],
                    properties: read[index].sorted { $0.name < $1.name })
                childrenOf[Self.parent(of: child.path), default: []].append(child)
                next.append(child)
            }
            objects.append(contentsOf: level)
            level = next
        }
        var ordered: [Object] = []
        func place(_ object: Object) {
            ordered.append(object)
            for child in childrenOf[object.path] ?? [] { place(child) }
        }
        if let first = objects.first { place(first) }
        return QOMTree(objects: ordered)
    }

    static func join(_ path: String, _ name: String) -> String {
        path.hasSuffix("/") ? path + name : path + "/" + name
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Reads properties of many objects, with their values.
    private struct Reader {
        let client: QMPClient
        let useListGet: Bool
        let timeout: Duration?

        func properties(ofAll paths: [String]) async throws(QMPError) -> [[Property]] {
            guard !paths.isEmpty else { return [] }
            if useListGet {
                let reply = try await client.execute(
                    "qom-list-get", arguments: ["paths": .array(paths.map { .string($0) })], timeout: timeout)
                return (reply.arrayValue ?? []).map { entry in
                    (entry["properties"]?.arrayValue ?? []).compactMap(Self.property(from:))
                }
            }
            var all: [[Property]] = []
            for path in paths {
                let listed = try await client.execute("qom-list", arguments: ["path": .string(path)], timeout: timeout)
                let properties = (listed.arrayValue ?? []).compactMap(Self.property(from:))
                all.append(await values(of: properties, at: path))
            }
            return all
        }

        /// The leaf properties' values, asked for all at once (the client pipelines them).
        private func values(of properties: [Property], at path: String) async -> [Property] {
            await withTaskGroup(of: (Int, JSONValue?).self) { group in
                for (index, property) in properties.enumerated() where property.childType == nil {
                    group.addTask { [client, timeout] in
                        let value = try? await client.execute(
                            "qom-get", arguments: ["path": .string(path), "property": .string(property.name)],
                            timeout: timeout)
                        return (index, value)
                    }
                }
                var read = properties
                for await (index, value) in group { read[index].value = value }
                return read
            }
        }

        private static func property(from entry: JSONValue) -> Property? {
            guard let name = entry["name"]?.stringValue, let type = entry["type"]?.stringValue else { return nil }
            var property = Property(name: name, type: type, value: entry["value"])
            // qom-list-get also reads a child's value (its path, which the tree shows anyway):
            // dropped, so the tree reads the same whichever command built it.
            if property.childType != nil { property.value = nil }
            return property
        }
    }
}

extension QOMTree {
    /// Indented text for a terminal: an object per line with its type in angle brackets, its
    /// leaf properties below it as `name: type = value`, links as `name -> path`.
    public func indentedText() -> String {
        var text = ""
        for object in objects {
            let indent = String(repeating: "  ", count: object.depth)
            let name = object.depth == 0 ? object.path : String(object.path.split(separator: "/").last ?? "")
            text += "\(indent)\(name.escapingControlCharacters) <\(object.type.escapingControlCharacters)>\n"
            for property in object.properties where property.childType == nil {
                text += indent + "  " + Self.describe(property) + "\n"
            }
        }
        return text
    }

    private static func describe(_ property: Property) -> String {
        let name = property.name.escapingControlCharacters
        if property.isLink {
            let target = property.value?.stringValue.map { $0.isEmpty ? "(none)" : $0 } ?? "?"
            return "\(name) -> \(target.escapingControlCharacters)"
        }
        let type = property.type.escapingControlCharacters
        guard let value = property.value else { return "\(name): \(type)" }
        return "\(name): \(type) = \(value.serialized().escapingControlCharacters)"
    }

    /// One compact JSON object per object: `{"path", "type", "properties": [{"name", "type",
    /// "value"?}]}` (children listed as properties of type `child<T>`).
    public func jsonLines() -> String {
        var text = ""
        for object in objects {
            let properties: [JSONValue] = object.properties.map { property in
                var entry: JSONObject = ["name": .string(property.name), "type": .string(property.type)]
                if let value = property.value { entry["value"] = value }
                return .object(entry)
            }
            let line: JSONObject = [
                "path": .string(object.path), "type": .string(object.type), "properties": .array(properties),
            ]
            text += JSONValue.object(line).serialized() + "\n"
        }
        return text
    }
}
