import CLibvirt
import Foundation
import QMP

/// libvirt's default event loop, run on a thread of its own for the life of the process.
///
/// libvirt delivers domain events (and notices a lost daemon) only while some thread runs its event
/// loop, and the loop must be registered before the first connection is opened. One loop serves
/// every connection of the process.
enum LibvirtEventLoop {
    private static let started: Result<Void, QMPError> = {
        do throws(QMPError) {
            let api = try Libvirt.functions()
            guard api.virEventRegisterDefaultImpl() == 0 else {
                return .failure(.couldNotConnect("libvirt's event loop could not start: \(Libvirt.lastError(api))"))
            }
            let thread = Thread {
                while api.virEventRunDefaultImpl() == 0 {}
            }
            thread.name = "libvirt-events"
            thread.start()
            return .success(())
        } catch {
            return .failure(error)
        }
    }()

    /// Starts the loop once; later calls return what the first one found.
    static func start() throws(QMPError) {
        try started.get()
    }
}
