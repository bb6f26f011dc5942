import Dispatch
import Glibc
import Synchronization

/// Ctrl-C during a fleet run: the targets still at work are stopped and reported, the others'
/// results stand, and the run ends with its summary instead of dying mid-line.
final class FleetInterruption: Sendable {
    private let state = Mutex<(interrupted: Bool, handlers: [Int: @Sendable () -> Void], next: Int)>((false, [:], 0))
    /// In a mutex only to be Sendable: Dispatch's sources are thread-safe but not marked so.
    private let source: Mutex<any DispatchSourceSignal>

    /// Catches SIGINT until ``stop()``.
    init() {
        signal(SIGINT, SIG_IGN)
        source = Mutex(DispatchSource.makeSignalSource(signal: SIGINT, queue: .global()))
        source.withLock { source in
            source.setEventHandler { [weak self] in self?.interrupt() }
            source.resume()
        }
    }

    private func interrupt() {
        let handlers = state.withLock { state in
            state.interrupted = true
            return Array(state.handlers.values)
        }
        handlers.forEach { $0() }
    }

    var isInterrupted: Bool { state.withLock { $0.interrupted } }

    /// Runs `handler` on Ctrl-C (at once if it came already) until the returned token is dropped
    /// with ``remove(_:)``.
    func onInterrupt(_ handler: @escaping @Sendable () -> Void) -> Int {
        let (token, already) = state.withLock { state in
            state.next += 1
            state.handlers[state.next] = handler
            return (state.next, state.interrupted)
        }
        if already { handler() }
        return token
    }

    func remove(_ token: Int) {
        _ = state.withLock { $0.handlers.removeValue(forKey: token) }
    }

    /// Gives Ctrl-C back its usual meaning.
    func stop() {
        source.withLock { $0.cancel() }
        signal(SIGINT, SIG_DFL)
    }
}
