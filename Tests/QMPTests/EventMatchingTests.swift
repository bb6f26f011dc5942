import Testing

@testable import QMP

/// How `.wait`'s `key=value` conditions match an event's data (values as the line parser types them).
@Suite("Matching event data", .timeLimit(.minutes(2)))
struct EventMatchingTests {
    static let data =
        #"{"status": "null", "flag": true, "count": 3, "size": 1.5, "text": "True", "number-text": "007", "#
        + #""nothing": null, "job": {"id": "j1"}, "list": [1]}"#

    @Test(arguments: [
        // A bare null, boolean or number finds a string with that text (the job state "null").
        (#"{"status": null}"#, true),
        (#"{"status": "null"}"#, true),
        (#"{"nothing": null}"#, true),
        (#"{"nothing": "null"}"#, true),
        (#"{"flag": true}"#, true),
        (#"{"flag": "true"}"#, true),
        (#"{"flag": false}"#, false),
        (#"{"text": true}"#, true),
        // Numbers by value, and a string that reads as the same number.
        (#"{"count": 3}"#, true),
        (#"{"count": 3.0}"#, true),
        (#"{"count": "3"}"#, true),
        (#"{"count": "03"}"#, false),
        (#"{"count": 4}"#, false),
        (#"{"size": 1.50}"#, true),
        (#"{"number-text": 7}"#, false),
        (#"{"number-text": "007"}"#, true),
        // Strings are compared exactly; nested paths; objects and arrays as JSON.
        (#"{"status": "Null"}"#, false),
        (#"{"job.id": "j1"}"#, true),
        (#"{"job": {"id": "j1"}}"#, true),
        (#"{"list": [1]}"#, true),
        (#"{"list": "[1]"}"#, false),
        (#"{"missing": null}"#, false),
        (#"{"count": 3, "status": null}"#, true),
        (#"{"count": 3, "status": "running"}"#, false),
    ])
    func conditionsMatchTheEventsData(conditions: String, expected: Bool) throws {
        let data = try JSONParser.parse(Self.data)
        let event = try #require(QMPEvent(message: ["event": "E", "data": data], sequence: 1))
        let parsed = try #require(try JSONParser.parse(conditions).objectValue)
        #expect(event.dataMatches(parsed) == expected, "\(conditions)")
    }
}
