import Glibc
import QMP

/// `--watch`: events as they arrive, until `--count` of them, `--timeout`, or the end of the
/// connection (followed across restarts with `--reconnect`).
struct WatchMode {
    let options: ShellOptions

    /// `--watch`: prints events until the count or the timeout; with `--reconnect` it follows the
    /// server across restarts (the count and the timeout span them), saying so on standard error.
    func run(link: ServerLink, connector: Connector, output: StandardStreams, formatter: OutputFormatter)
        async -> ExitStatus
    {
        let deadline = options.timeout.map { ContinuousClock.now + .milliseconds(Int($0 * 1000)) }
        let timedOut: ExitStatus = options.count == nil ? .success : .lineFailed
        var remaining = options.count
        var status: ExitStatus?
        let follower = ConnectionFollower(link: link, connector: connector)
        await follower.follow(until: deadline) { client in
            guard let listener = link.listener else { return nil }
            let watcher = EventWatcher(
                listener: listener, style: isatty(1) == 1 ? .readable : .json, pretty: options.pretty, output: output)
            let (outcome, printed) = await watcher.run(count: remaining, deadline: deadline)
            guard outcome == .connectionEnded else {
                status = outcome == .countReached ? .success : timedOut
                return nil
            }
            remaining = remaining.map { $0 - printed }
            let cause = client.disconnectCause ?? .disconnected("the connection ended")
            await client.disconnect()
            return cause
        } change: { change in
            switch change {
            case .lost(let message):
                status = .connection
                output.diagnostic(formatter.error(message))
            case .reconnecting(let notice, _), .reconnected(let notice, _):
                output.diagnostic(formatter.notice(notice))
            }
        }
        // The follower ended without a word: the deadline passed while it reconnected (or there
        // was no listener).
        if let status { return status }
        return deadline.map { ContinuousClock.now >= $0 } == true ? timedOut : .connection
    }
}
