import Synchronization

/// Wakes the tasks that wait for some state to change, without polling.
///
/// A waiter reads ``count`` before it checks the state, and passes it to ``wait(after:)``: a change
/// between the check and the wait has moved the count on, so the wait returns at once instead of
/// sleeping through it. A waiter whose task is cancelled returns too.
final class ChangeSignal: Sendable {
    private struct State {
        var count: UInt64 = 0
        var nextWaiter: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    /// How many changes there have been.
    var count: UInt64 { state.withLock { $0.count } }

    /// Notes a change and wakes every waiter.
    func signal() {
        let woken = state.withLock { state in
            state.count &+= 1
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in woken { waiter.resume() }
    }

    /// Returns once there has been a change since the count was `seen`, or the task is cancelled.
    func wait(after seen: UInt64) async {
        let id = state.withLock { state in
            defer { state.nextWaiter &+= 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // Checked under the lock: a cancellation after it finds the waiter stored, one
                // before it is seen here (the flag is set before the handler runs).
                let ready = state.withLock { state in
                    guard state.count == seen, !Task.isCancelled else { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}
