import Foundation
import QMP

/// What `query-qmp-schema` answered on other QEMU versions (x86_64), as libvirt's test data
/// records it (`Tests/Fixtures/qmp-schemas`; origin and licence in Docs/DECISIONS.md). The
/// installed QEMU's own schema is fetched live instead.
public enum RecordedSchema {
    /// The recorded versions: distributions still ship each of them.
    public static let versions = ["4.2.0", "5.2.0", "6.2.0", "8.2.0"]

    /// The schema QEMU `version` ("4.2.0") answered.
    public static func introspection(_ version: String) throws -> JSONValue {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/qmp-schemas/qemu-\(version)-x86_64.json").path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FakeServerError("no recorded schema at \(path)")
        }
        return try JSONParser.parse(data)
    }
}
