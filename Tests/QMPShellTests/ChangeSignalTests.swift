import QMPTestSupport
import Testing

@testable import QMPShell

/// The wait of the interactive fleet shell for its first target (`--reconnect`): woken by a
/// change, never sleeping through one that came before it, and ended by cancellation.
@Suite(.timeLimit(.minutes(1))) struct ChangeSignalTests {
    @Test func aWaiterIsWokenByTheNextChange() async throws {
        let signal = ChangeSignal()
        let seen = signal.count
        let waiter = Task { await signal.wait(after: seen) }
        // Whether the waiter is suspended yet or not, the change ends its wait.
        signal.signal()
        try await within(.seconds(10), "the woken waiter") { await waiter.value }
    }

    @Test func aChangeBeforeTheWaitIsNotMissed() async throws {
        let signal = ChangeSignal()
        let seen = signal.count
        signal.signal()
        try await within(.seconds(10), "a wait after a change already made") { await signal.wait(after: seen) }
    }

    @Test func aCancelledWaiterReturnsWithoutAChange() async throws {
        let signal = ChangeSignal()
        let seen = signal.count
        let waiter = Task { await signal.wait(after: seen) }
        waiter.cancel()
        try await within(.seconds(10), "the cancelled waiter") { await waiter.value }
        #expect(signal.count == seen)
    }

    @Test func everyWaiterIsWoken() async throws {
        let signal = ChangeSignal()
        let seen = signal.count
        let waiters = (0..<5).map { _ in Task { await signal.wait(after: seen) } }
        signal.signal()
        for waiter in waiters { try await within(.seconds(10), "every waiter") { await waiter.value } }
    }
}
