import Foundation
import Synchronization

/// What the scripts of fake servers found wrong with their client, collected for the test that
/// started the servers.
///
/// A script's `expect` that fails on the server side (the client sent the wrong command, or the
/// wrong arguments) would otherwise only show if the client then failed too. Each
/// ``FakeQMPServer`` takes the collector of the task that made it (``current``); the test trait
/// `.checksFakeServerScripts` makes one collector per test and turns what it holds into issues of
/// that test. A failure with no collector to take it is written to standard error.
public final class FakeServerFailures: Sendable {
    /// The collector of the running test, if its suite checks fake-server scripts.
    @TaskLocal public static var current: FakeServerFailures?

    private let messages = Mutex<[String]>([])

    public init() {}

    /// Adds a failure.
    public func record(_ message: String) {
        messages.withLock { $0.append(message) }
    }

    /// The failures so far, oldest first.
    public var all: [String] { messages.withLock { $0 } }
}
