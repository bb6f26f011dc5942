/// How a run of the shell ends, as its exit status: the contract scripts and CI jobs rely on.
public enum ExitStatus: Int32, Sendable {
    /// Everything asked for was done (also: `quit`, Ctrl-D, `--watch` reaching `--count`).
    case success = 0
    /// A command failed, a line did not parse, `.wait` or `--command-timeout` ran out, or
    /// `--watch --timeout` ended before `--count` was reached.
    case lineFailed = 1
    /// The command line was wrong (no address, options that contradict each other).
    case usage = 2
    /// Could not connect, or the connection was lost.
    case connection = 3
}
