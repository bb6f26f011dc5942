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
        while let client = link.client, let listener = link.listener {
            let watcher = EventWatcher(
                listener: listener, style: isatty(1) == 1 ? .readable : .json, pretty: options.pretty, output: output)
            let (outcome, printed) = await watcher.run(count: remaining, deadline: deadline)
            switch outcome {
            case .countReached: return .success
            case .timedOut: return timedOut
            case .connectionEnded: break
            }
            let cause = client.disconnectCause ?? .disconnected("the connection ended")
            guard connector.retryPolicy != nil else {
                output.diagnostic(formatter.error("qmp-shell: \(cause)"))
                return .connection
            }
            remaining = remaining.map { $0 - printed }
            link.detach(reason: "reconnecting")
            await client.disconnect()
            output.diagnostic(formatter.notice(connector.reconnectingNotice(after: cause)))
            // Retried as --retry-delay and --retries say, but no longer than --timeout.
            let connecting = Task { await connector.connectClient(notice: { _ in }) }
            let timer = deadline.map { deadline in
                Task {
                    try? await Task.sleep(until: deadline)
                    if !Task.isCancelled { connecting.cancel() }
                }
            }
            let result = await connecting.value
            timer?.cancel()
            if let deadline, ContinuousClock.now >= deadline {
                if case .success(let (client, _)) = result { await client.disconnect() }
                return timedOut
            }
            switch result {
            case .success(let (client, listener)):
                link.attach(client, listener: listener)
                output.diagnostic(formatter.notice(connector.reconnectedNotice(to: client)))
            case .failure(let error):
                output.diagnostic(formatter.error(connector.gaveUpNotice(error)))
                return .connection
            }
        }
        return .connection
    }
}
