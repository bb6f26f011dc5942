/// The kinds of names only the running VM knows, which Tab offers for the arguments that take them.
public enum LiveValueKind: Hashable, Sendable {
    /// Block node names and block device (backend) names: `query-named-block-nodes`, `query-block`.
    case blockNames
    /// Ids of the devices the user added (`/machine/peripheral`).
    case deviceIDs
    /// Job ids: `query-jobs`, and `query-block-jobs` for QEMUs before jobs had their own list.
    case jobIDs
    /// Ids of user-created objects (`/objects`).
    case objectIDs
    /// Character device ids: `query-chardev`.
    case chardevIDs
    /// Network backend ids: HMP's `info network` (QMP has no command that lists them).
    case netdevIDs
    /// The names below a QOM path (its `child<>` and `link<>` properties), a level at a time.
    case qomChildren(of: String)
    /// The property names of a QOM path.
    case qomProperties(of: String)

    /// The members that name a block node or a block device (`file=` and `backing=` reference a node in
    /// `blockdev-add`; `base`/`top` are file names in `block-stream`/`block-commit`, so they are not here).
    static let blockKeys: Set<String> = [
        "node", "node-name", "device", "drive", "target", "base-node", "top-node", "file", "backing", "overlay",
        "parent", "child", "filter-node-name",
    ]

    /// The kind of name the value of `keyPath` in `command` takes, or `nil` for an argument that takes
    /// none of these. `takesString`: the schema gives the member a type that can hold a name (a
    /// string, or an alternate with a string branch), or does not declare it (`device_add`'s
    /// driver properties); `qomPath` is the `path=` typed on the line, for `property=`.
    static func kind(command: String, keyPath: [String], takesString: Bool, qomPath: String?)
        -> LiveValueKind?
    {
        guard keyPath.count == 1, let key = keyPath.first else { return nil }
        // Where the command says what the argument names.
        switch (command, key) {
        case ("device_del", "id"): return .deviceIDs
        case ("object-del", "id"): return .objectIDs
        case ("netdev_del", "id"): return .netdevIDs
        case (_, "id") where command.hasPrefix("job-"): return .jobIDs
        case (_, "device") where command.hasPrefix("block-job-"): return .jobIDs
        case (_, "id") where command.hasPrefix("chardev-") && command != "chardev-add": return .chardevIDs
        case ("qom-list", "path"), ("qom-get", "path"), ("qom-set", "path"): return .qomChildren(of: "/")
        case ("qom-get", "property"), ("qom-set", "property"):
            return qomPath.map { .qomProperties(of: $0) }
        default: break
        }
        // A string argument named after what it references.
        guard takesString else { return nil }
        switch key {
        case "chardev": return .chardevIDs
        case "netdev": return .netdevIDs
        // A new node's own name, and `drive-*`'s targets (file names), are not existing nodes.
        case "node-name" where command == "blockdev-add" || command == "blockdev-create": return nil
        case "target" where command.hasPrefix("drive-"): return nil
        case _ where blockKeys.contains(key): return .blockNames
        default: return nil
        }
    }
}
