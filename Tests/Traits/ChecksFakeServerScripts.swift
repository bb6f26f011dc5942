import QMPTestSupport
import Testing

/// Fails a test when the script of a fake server it started threw: the client sent something
/// the script did not expect, which the client side alone may never notice.
///
/// Put it on a suite (it applies to each test in it) or on a test:
///
///     @Suite("Client against a misbehaving server", .timeLimit(.minutes(1)), .checksFakeServerScripts)
///
/// Failures are those recorded by the time the test body returns; a script that fails later,
/// after its test, writes its message to standard error.
public struct ChecksFakeServerScripts: TestTrait, SuiteTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        guard testCase != nil else { return try await function() }
        let failures = FakeServerFailures()
        defer {
            for failure in failures.all {
                Issue.record("fake server: \(failure)", sourceLocation: test.sourceLocation)
            }
        }
        try await FakeServerFailures.$current.withValue(failures) { try await function() }
    }
}

extension Trait where Self == ChecksFakeServerScripts {
    /// Fails the test when a fake server's script it started finds the client at fault.
    public static var checksFakeServerScripts: Self { Self() }
}
