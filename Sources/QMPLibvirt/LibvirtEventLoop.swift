import CLibvirt
import Glibc
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
            var handle = pthread_t()
            let context = Unmanaged.passRetained(LoopFunctions(api)).toOpaque()
            let result = pthread_create(
                &handle, nil,
                { context in
                    let api = Unmanaged<LoopFunctions>.fromOpaque(context!).takeRetainedValue().api
                    while api.virEventRunDefaultImpl() == 0 {}
                    return nil
                }, context)
            guard result == 0 else {
                Unmanaged<LoopFunctions>.fromOpaque(context).release()
                return .failure(
                    .couldNotConnect("libvirt's event loop could not start: \(String(cString: strerror(result)))"))
            }
            pthread_detach(handle)
            return .success(())
        } catch {
            return .failure(error)
        }
    }()

    /// libvirt's functions, handed to the loop's thread.
    private final class LoopFunctions {
        let api: qmpshell_libvirt
        init(_ api: qmpshell_libvirt) { self.api = api }
    }

    /// Starts the loop once; later calls return what the first one found.
    static func start() throws(QMPError) {
        try started.get()
    }
}
