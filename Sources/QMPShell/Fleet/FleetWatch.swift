import QMP

/// `--watch` on several targets: every target's events merged in the order they arrive, each
/// tagged with its target, until `--count` events, `--timeout`, or Ctrl-C. A target that cannot be
/// reached or goes away is said inline, on standard error, and (with `--reconnect`) followed.
///
/// Each target is read by its own task, which writes its events in batches of at most
/// ``batchLimit`` (one system call each): a flooding target takes its turns at the output like the
/// others, and its listener's small queue (``FleetSettings/eventCapacity``) holds its server back
/// instead of growing, so memory is bounded by the number of targets, whatever they send.
struct FleetWatch {
    let settings: FleetSettings
    let streams: any ShellOutput
    /// Diagnostics, tagged with the target.
    let diagnostics: FleetOutput
    let readable: Bool
    let count: Int?
    let timeout: Duration?

    static let batchLimit = 256

    func run(_ targets: [FleetTarget]) async -> ExitStatus {
        let board = FleetWatchBoard(count: count)
        let interruption = FleetInterruption()
        defer { interruption.stop() }
        let token = interruption.onInterrupt { board.end(.interrupted) }
        defer { interruption.remove(token) }
        let timer = timeout.map { timeout in
            Task {
                try? await Task.sleep(for: timeout)
                if !Task.isCancelled { board.end(.timedOut) }
            }
        }
        defer { timer?.cancel() }
        // Tasks of their own, not a group's children, so that the board can cancel them when
        // watching ends: a target retrying its connection (--reconnect) then stops at once.
        let tasks = targets.map { target in Task { await watch(target, board: board) } }
        tasks.forEach { task in board.onEnd { task.cancel() } }
        var tally = FleetTally()
        for (target, task) in zip(targets, tasks) { tally.add(await task.value, name: target.name) }
        streams.diagnostic(tally.summary)
        switch board.ending {
        case .countReached: return .success
        case .timedOut, .interrupted, nil:
            if !tally.unreachable.isEmpty { return .connection }
            return board.ending == .timedOut && count != nil ? .lineFailed : .success
        }
    }

    /// Follows one target until watching ends: `.unreachable` if it could not be reached, or went
    /// away without `--reconnect` to bring it back.
    private func watch(_ target: FleetTarget, board: FleetWatchBoard) async -> FleetTargetResult {
        let say = diagnostics.output(for: target.name)
        let formatter = settings.formatter
        let connector = settings.connector(for: target, output: say) { board.track($0) }
        var reconnecting = false
        while board.ending == nil {
            let connected = await connector.connectClient(notice: { say.diagnostic(formatter.notice($0)) })
            guard case .success(let (client, listener)) = connected else {
                if case .failure(let error) = connected, board.ending == nil {
                    say.diagnostic(
                        formatter.error(reconnecting ? connector.gaveUpNotice(error) : "qmp-shell: \(error)"))
                }
                return .unreachable
            }
            if reconnecting { say.diagnostic(formatter.notice(connector.reconnectedNotice(to: client))) }
            board.track(listener)
            await printEvents(of: listener, tag: target.name, board: board, say: say)
            board.untrack(listener)
            board.untrack(client)
            let cause = client.disconnectCause ?? .disconnected("the connection ended")
            await client.disconnect()
            if board.ending != nil { break }
            guard settings.retryPolicy != nil else {
                say.diagnostic(formatter.error("qmp-shell: \(cause)"))
                return .unreachable
            }
            say.diagnostic(formatter.notice(connector.reconnectingNotice(after: cause)))
            reconnecting = true
        }
        return .succeeded
    }

    /// Prints `listener`'s events until the connection ends or watching does.
    private func printEvents(of listener: EventListener, tag: String, board: FleetWatchBoard, say: TargetOutput) async {
        let name = JSONValue.string(tag)
        let shownName = tag.escapingControlCharacters
        while board.ending == nil {
            let more = await listener.waitForEvents()
            var events = listener.drain()[...]
            let dropped = listener.takeDroppedCount()
            if dropped > 0 {
                say.diagnostic(
                    "qmp-shell: \(dropped) events were dropped: they arrived faster than they could be written\n")
            }
            while !events.isEmpty {
                let batch = events.prefix(board.take(min(events.count, Self.batchLimit)))
                if batch.isEmpty { return }
                events = events.dropFirst(batch.count)
                var bytes: [UInt8] = []
                bytes.reserveCapacity(batch.count * 160)
                for event in batch { append(event, name: name, shownName: shownName, to: &bytes) }
                streams.result(String(decoding: bytes, as: UTF8.self))
            }
            if !more && listener.isFinished { return }
        }
    }

    private func append(_ event: QMPEvent, name: JSONValue, shownName: String, to bytes: inout [UInt8]) {
        let layout: JSONValue.Layout = settings.configuration.pretty ? .pretty : .compact
        if readable {
            bytes.append(contentsOf: EventWatcher.localTime(event.timestamp).utf8)
            bytes.append(contentsOf: " \(shownName) \(event.name.escapingControlCharacters)".utf8)
            if !event.data.isEmpty {
                bytes.append(UInt8(ascii: " "))
                JSONValue.object(event.data).write(to: &bytes, layout: layout)
            }
        } else {
            var tagged: JSONObject = ["target": name]
            for member in event.message where member.key != "target" {
                tagged.append(key: member.key, value: member.value)
            }
            JSONValue.object(tagged).write(to: &bytes, layout: layout)
        }
        bytes.append(UInt8(ascii: "\n"))
    }
}
