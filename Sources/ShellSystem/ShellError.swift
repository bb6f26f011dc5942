import Glibc

/// A failure the shell reports in one line and carries on or exits from, with its root cause
/// kept for a caller that needs more than the words: the errno of the system call that failed,
/// or the error underneath (a `QMPError`, say).
public struct ShellError: Error, Sendable, CustomStringConvertible {
    /// The line to show.
    public let description: String
    /// The errno of the system call that failed, if that is the cause.
    public let code: Int32?
    /// The error this one reports, if another error is the cause.
    public let underlying: (any Error & Sendable)?

    public init(_ description: String, code: Int32? = nil, underlying: (any Error & Sendable)? = nil) {
        self.description = description
        self.code = code
        self.underlying = underlying
    }

    /// `what` failed in a system call with `code` (by default the current errno): the line reads
    /// "what: the error's text".
    public static func system(_ what: String, code: Int32 = errno) -> ShellError {
        ShellError("\(what): \(errnoText(code))", code: code)
    }
}
