import Synchronization

/// A wait in a test that did not end in time.
public struct DeadlineExceeded: Error, CustomStringConvertible {
    /// What the test was waiting for.
    public let what: String
    /// How long it waited.
    public let limit: Duration

    public var description: String { "timed out after \(limit) waiting for \(what)" }
}

/// Returns what `operation` returns, or throws ``DeadlineExceeded`` once `limit` has passed.
///
/// For the waits of a test that have no bound of their own (`for await` over events, a client's
/// `waitUntilDisconnected()`, a command against a real QEMU): the test then fails at once with
/// what it was waiting for, rather than at its suite's time limit. The operation is cancelled
/// when the limit passes; one that ignores cancellation is left to finish on its own instead of
/// holding the test. Cancelling the calling task cancels the operation too.
///
///     let cause = try await within(.seconds(10), "the disconnect") { await client.waitUntilDisconnected() }
public func within<Value: Sendable>(
    _ limit: Duration, _ what: String, _ operation: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    let race = DeadlineRace<Value>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.start(continuation)
            let timer = Task {
                try? await Task.sleep(for: limit)
                if !Task.isCancelled, race.finish(.failure(DeadlineExceeded(what: what, limit: limit))) {
                    race.cancelWork()
                }
            }
            race.setWork(
                Task {
                    let result: Result<Value, any Error>
                    do { result = .success(try await operation()) } catch { result = .failure(error) }
                    timer.cancel()
                    _ = race.finish(result)
                })
            // A cancellation that came before the continuation was stored found nothing to resume.
            if Task.isCancelled { race.cancel() }
        }
    } onCancel: {
        race.cancel()
    }
}

/// The one continuation of ``within(_:_:_:)``, resumed by whoever comes first: the operation,
/// the timer or a cancellation.
private final class DeadlineRace<Value: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Value, any Error>?
        var work: Task<Void, Never>?
    }
    private let state = Mutex(State())

    func start(_ continuation: CheckedContinuation<Value, any Error>) {
        state.withLock { $0.continuation = continuation }
    }

    func setWork(_ task: Task<Void, Never>) {
        state.withLock { $0.work = task }
    }

    /// Resumes the continuation with `result` unless it was resumed already; returns whether it was this call.
    func finish(_ result: Result<Value, any Error>) -> Bool {
        guard let continuation = state.withLock({ $0.continuation.take() }) else { return false }
        continuation.resume(with: result)
        return true
    }

    func cancelWork() {
        state.withLock { $0.work }?.cancel()
    }

    func cancel() {
        cancelWork()
        _ = finish(.failure(CancellationError()))
    }
}
