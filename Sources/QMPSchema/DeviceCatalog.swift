import QMP
import Synchronization

/// The device types of one connection (`qom-list-types implements=device abstract=false`) and
/// their properties (`device-list-properties typename=...`), which the schema does not declare:
/// `device_add` takes whatever properties its driver has.
///
/// Each is fetched once, on first use, and kept for the connection. The completer asks without
/// waiting (the first Tab starts the fetch, a later Tab uses the answer); the runner waits.
public final class DeviceCatalog: Sendable {
    /// A device property and its QOM type name (`str`, `bool`, `uint32`, `OnOffAuto`, `drive`...).
    public struct Property: Sendable, Hashable {
        public let name: String
        public let type: String
    }

    private struct State {
        var typeNames: Task<[String], Never>?
        var typeNamesResult: [String]?
        var properties: [String: Task<[Property]?, Never>] = [:]
        var propertiesResult: [String: [Property]] = [:]
    }

    private let client: QMPClient
    private let state = Mutex(State())

    public init(client: QMPClient) {
        self.client = client
    }

    /// The device type names, sorted, if known; otherwise starts fetching them and returns `nil`.
    public func typeNamesIfKnown() -> [String]? {
        let (known, _) = typeNamesTask()
        return known
    }

    /// The properties of the device type `name`, if known; otherwise starts fetching them and
    /// returns `nil`. Also `nil` for a type QEMU does not know.
    public func propertiesIfKnown(of name: String) -> [Property]? {
        let (known, _) = propertiesTask(of: name)
        return known
    }

    /// The properties of the device type `name`, fetched if needed; `nil` if QEMU does not know
    /// the type.
    public func properties(of name: String) async -> [Property]? {
        let (known, task) = propertiesTask(of: name)
        if let known { return known }
        return await task?.value
    }

    private func typeNamesTask() -> ([String]?, Task<[String], Never>?) {
        state.withLock { state in
            if let known = state.typeNamesResult { return (known, nil) }
            if state.typeNames == nil {
                state.typeNames = Task { [client] in
                    let reply = try? await client.execute(
                        "qom-list-types", arguments: ["implements": "device", "abstract": false])
                    let names = (reply?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }.sorted()
                    self.state.withLock { $0.typeNamesResult = names }
                    return names
                }
            }
            return (nil, state.typeNames)
        }
    }

    private func propertiesTask(of name: String) -> ([Property]?, Task<[Property]?, Never>?) {
        state.withLock { state in
            if let known = state.propertiesResult[name] { return (known, nil) }
            if let running = state.properties[name] { return (nil, running) }
            let task = Task { [client] () -> [Property]? in
                guard
                    let reply = try? await client.execute(
                        "device-list-properties", arguments: ["typename": .string(name)])
                else { return nil }
                let properties = (reply.arrayValue ?? []).compactMap { item -> Property? in
                    guard let property = item["name"]?.stringValue else { return nil }
                    return Property(name: property, type: item["type"]?.stringValue ?? "")
                }
                self.state.withLock { $0.propertiesResult[name] = properties }
                return properties
            }
            state.properties[name] = task
            return (nil, task)
        }
    }
}
