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

    init?(message: JSONObject, sequence: UInt64) {
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
    }

    /// Whether every `path=value` pair matches the event's `data`, where a path is dotted
    /// (`"job.id"`) and values compare as JSON, except that a string pattern also matches a number
    /// or boolean with that text (so `id=3` typed as text finds `"id": 3`).
    public func dataMatches(_ conditions: JSONObject) -> Bool {
        let data = JSONValue.object(self.data)
        for condition in conditions {
            guard let actual = data.value(atPath: condition.key) else { return false }
            if actual == condition.value { continue }
            switch (actual, condition.value) {
            case (.number(let number), .string(let text)) where number.text == text: continue
            case (.string(let text), .number(let number)) where number.text == text: continue
            case (.bool(let flag), .string(let text)) where String(flag) == text.lowercased(): continue
            case (.string(let text), .bool(let flag)) where String(flag) == text: continue
            default: return false
            }
        }
        return true
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
