/// A JSON object whose members keep the order they were written in.
///
/// Lookups scan the members: QMP objects are small, and order matters more than speed here
/// (commands, replies and schema entries are read and printed in the order QEMU uses).
public struct JSONObject: Sendable, Hashable, RandomAccessCollection, ExpressibleByDictionaryLiteral {
    /// One `"key": value` pair.
    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: JSONValue

        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// The members in order. A key may appear twice if the text it was parsed from said so;
    /// lookups then find the last one, as most JSON readers do.
    public private(set) var members: [Member]

    public init() { members = [] }

    public init(_ members: [Member]) { self.members = members }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        members = elements.map { Member(key: $0.0, value: $0.1) }
    }

    public var startIndex: Int { members.startIndex }
    public var endIndex: Int { members.endIndex }
    public subscript(position: Int) -> Member { members[position] }

    /// The keys in order.
    public var keys: [String] { members.map(\.key) }

    /// The value for `key` (the last member with that key). Setting a value replaces that member's
    /// value in place, or appends a new member; setting `nil` removes every member with that key, so
    /// that reading it afterwards gives `nil`.
    public subscript(key: String) -> JSONValue? {
        get {
            guard let index = members.lastIndex(where: { $0.key == key }) else { return nil }
            return members[index].value
        }
        set {
            if let newValue {
                if let index = members.lastIndex(where: { $0.key == key }) {
                    members[index].value = newValue
                } else {
                    members.append(Member(key: key, value: newValue))
                }
            } else {
                members.removeAll { $0.key == key }
            }
        }
    }

    /// Appends a member without looking for an existing one with the same key.
    public mutating func append(key: String, value: JSONValue) {
        members.append(Member(key: key, value: value))
    }

    /// This object as JSON text.
    public func serialized(_ layout: JSONValue.Layout = .compact) -> String {
        JSONValue.object(self).serialized(layout)
    }
}
