import QMP
import QMPSchema
import QMPTestSupport

extension InstalledSchema {
    /// The model built from it.
    static func schema() async throws -> QMPSchema {
        try QMPSchema(introspection: await introspection())
    }
}
