import CLibvirt
import Glibc
import QMP

/// libvirt's functions, loaded the first time a libvirt-managed VM is asked for.
///
/// Nothing links libvirt: a shell that never uses `--domain` runs where libvirt is not installed.
enum Libvirt {
    /// The loaded functions, or ``QMPError/couldNotConnect(_:)`` saying what to install.
    static func functions() throws(QMPError) -> qmpshell_libvirt {
        var error = [CChar](repeating: 0, count: 512)
        guard qmpshell_libvirt_load(&error, error.count) == 0 else {
            let reason = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw .couldNotConnect(
                "libvirt is not available (\(reason)); install it (Debian: apt-get install libvirt0) to reach VMs that libvirt manages"
            )
        }
        return qmpshell_libvirt().pointee
    }

    /// libvirt's message for the last failure on this thread (it keeps one per thread), then cleared.
    static func lastError(_ api: qmpshell_libvirt) -> String {
        defer { api.virResetLastError() }
        guard let message = api.virGetLastErrorMessage() else { return "unknown libvirt error" }
        return String(cString: message)
    }
}
