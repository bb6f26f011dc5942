import QMP

/// Follows one server across its connections, for the interactive shells (on one target and on
/// several) and `--watch`: while a client is connected it runs what the shell does with it; when
/// the connection ends other than by the user's `quit`, it either reports the server lost or (with
/// a retry policy, `--reconnect`) reconnects the ``ServerLink``, saying what happens at each step.
struct ConnectionFollower: Sendable {
    /// What the shell is told, as the line to show.
    enum Change: Sendable {
        /// Lost for good: no `--reconnect`, or it gave up. An error line.
        case lost(String)
        /// Gone (for the cause given); trying again. A notice.
        case reconnecting(String, cause: QMPError)
        /// Back, with the new client attached to the link. A notice.
        case reconnected(String, QMPClient)
    }

    let link: ServerLink
    let connector: Connector

    /// For each client of the link, runs `connection` (which returns the cause when that
    /// connection ends, `nil` if it ended as asked) and then reconnects or gives up, telling
    /// `change`, until the server is lost for good (``Change/lost(_:)``), the user's `quit`,
    /// cancellation, or `deadline` (`--watch --timeout`), which ends reconnecting without a word.
    func follow(
        until deadline: ContinuousClock.Instant? = nil, connection: (QMPClient) async -> QMPError?,
        change: (Change) -> Void
    ) async {
        while let client = link.client, !Task.isCancelled {
            let cause = await connection(client)
            guard let cause, !Task.isCancelled, !link.quitRequested else { return }
            guard connector.retryPolicy != nil else {
                change(.lost("qmp-shell: \(cause)"))
                return
            }
            link.detach(reason: "not connected: reconnecting to \(connector.place)")
            change(.reconnecting(connector.reconnectingNotice(after: cause), cause: cause))
            let result = await reconnect(by: deadline)
            if let deadline, ContinuousClock.now >= deadline {
                if case .success(let (client, _)) = result { await client.disconnect() }
                return
            }
            switch result {
            case .success(let (client, listener)):
                link.attach(client, listener: listener)
                change(.reconnected(connector.reconnectedNotice(to: client), client))
            case .failure(let error):
                guard !Task.isCancelled else { return }
                change(.lost(connector.gaveUpNotice(error)))
                return
            }
        }
    }

    /// Connects again, as the retry policy says, but no longer than until `deadline`.
    private func reconnect(by deadline: ContinuousClock.Instant?) async -> Result<(QMPClient, EventListener), QMPError>
    {
        guard let deadline else { return await connector.connectClient(notice: { _ in }) }
        let connecting = Task { await connector.connectClient(notice: { _ in }) }
        let timer = Task {
            try? await Task.sleep(until: deadline)
            if !Task.isCancelled { connecting.cancel() }
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await connecting.value
        } onCancel: {
            connecting.cancel()
        }
    }
}
