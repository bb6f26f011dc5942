/// An asynchronous event from the server, such as `STOP` or `JOB_STATUS_CHANGE`.
public struct QMPEvent: Sendable, Hashable {
    /// When QEMU says the event happened; both fields are -1 when QEMU could not tell.
    public struct Timestamp: Sendable, Hashable {
        public let seconds: Int
        public let microseconds: Int

        public init(seconds: Int, microseconds: Int) {
            self.seconds = seconds
            self.microseconds = microseconds
        }
    }

    /// The event's name, e.g. `RESUME`.
    public let name: String
    /// The event's `data` member; empty when the server sent none.
    public let data: JSONObject
    /// The `timestamp` member, if the server sent one that reads as one.
    public let timestamp: Timestamp?
    /// The whole message as received.
    public let message: JSONObject
    /// This event's position among all events of the connection, counting from 1.
    public let sequence: UInt64
    /// The message's length in bytes as it came off the wire: what the byte bounds of the
    /// history and the listeners' queues count.
    public let size: Int

    init?(message: JSONObject, sequence: UInt64, size: Int = 0) {
        guard let name = message["event"]?.stringValue else { return nil }
        self.name = name
        self.data = message["data"]?.objectValue ?? JSONObject()
        if let stamp = message["timestamp"], let seconds = stamp["seconds"]?.intValue,
            let microseconds = stamp["microseconds"]?.intValue
        {
            self.timestamp = Timestamp(seconds: seconds, microseconds: microseconds)
        } else {
            self.timestamp = nil
        }
        self.message = message
        self.sequence = sequence
        self.size = size
    }

    /// Whether every `path=value` pair matches the event's `data`, where a path is dotted
    /// (`"job.id"`). Objects and arrays match when equal as JSON; scalars when
    /// ``value(_:matches:)`` says so, so `status=null` finds `"status": "null"` and `id="3"`
    /// finds `"id": 3`.
    public func dataMatches(_ conditions: JSONObject) -> Bool {
        let data = JSONValue.object(self.data)
        return conditions.allSatisfy { condition in
            data.value(atPath: condition.key).map { Self.value(condition.value, matches: $0) } ?? false
        }
    }

    /// Whether the condition `expected` matches the event's value `actual`: when they are equal
    /// as JSON, when both are numbers of the same value (`1` and `1.0`), or when one is a string
    /// whose text is the other scalar as JSON writes it (`null`, `true`, `false`, a number, by
    /// value: `"1.0"` and `1`; a boolean's text in any case). A string never matches an object
    /// or array.
    public static func value(_ expected: JSONValue, matches actual: JSONValue) -> Bool {
        if expected == actual { return true }
        switch (expected, actual) {
        case (.number(let left), .number(let right)):
            return sameNumber(left, right)
        case (.string(let text), let other), (let other, .string(let text)):
            switch other {
            case .null: return text == "null"
            case .bool(let flag): return text.lowercased() == String(flag)
            case .number(let number): return JSONNumber(text: text).map { sameNumber($0, number) } ?? false
            default: return false
            }
        default:
            return false
        }
    }

    /// Whether two numbers have the same value: exactly for integers, as doubles otherwise.
    private static func sameNumber(_ left: JSONNumber, _ right: JSONNumber) -> Bool {
        if left.isInteger && right.isInteger {
            if let a = left.intValue, let b = right.intValue { return a == b }
            if let a = left.uint64Value, let b = right.uint64Value { return a == b }
        }
        return left.doubleValue == right.doubleValue
    }
}

/// A point in a connection's event stream, taken before sending a command so that waiting for
/// the event it causes cannot miss one that arrives before the reply.
public struct EventMark: Sendable, Hashable {
    /// The sequence number of the last event received when the mark was taken.
    public let sequence: UInt64

    /// A mark after event number `sequence` (0: before the first event).
    public init(sequence: UInt64) {
        self.sequence = sequence
    }
}
