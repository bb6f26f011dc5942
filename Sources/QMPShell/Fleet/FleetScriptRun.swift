import Logging
import QMP
import Synchronization

/// `-c`/`-f`/standard input on several targets: every line runs on every target, in order on each,
/// targets concurrently up to ``FleetSettings/parallel``; each target stops at its first failure
/// unless `--keep-going`. A target that hangs is stopped at `--timeout` (or Ctrl-C) without
/// touching the others.
///
/// Every target's work runs on `executor` when one is given (the shell gives the event loop that
/// reads and writes every connection, ``ConnectionExecutor``): as the raw client of the `fleet`
/// benchmark does on its one thread, nothing is handed between threads per message (those
/// hand-offs cost a fifth of a 100-target run's CPU and two thirds of its context switches).
struct FleetScriptRun {
    let settings: FleetSettings
    let script: FleetScript
    let output: FleetOutput
    var executor: (any TaskExecutor)? = nil

    func run(_ targets: [FleetTarget]) async -> ExitStatus {
        await withTaskExecutorPreference(executor) { await runAll(targets) }
    }

    private func runAll(_ targets: [FleetTarget]) async -> ExitStatus {
        let interruption = FleetInterruption()
        defer { interruption.stop() }
        var results = [FleetTargetResult?](repeating: nil, count: targets.count)
        await withTaskGroup(of: (Int, FleetTargetResult).self) { group in
            var next = 0
            func startNext() {
                let index = next
                next += 1
                group.addTask { (index, await run(targets[index], interruption: interruption)) }
            }
            while next < min(settings.parallel, targets.count) { startNext() }
            while let (index, result) = await group.next() {
                results[index] = result
                if next < targets.count && !interruption.isInterrupted { startNext() }
            }
        }
        var tally = FleetTally()
        for (target, result) in zip(targets, results) {
            if result == nil {
                output.output(for: target.name).diagnostic("qmp-shell: not reached: interrupted\n")
            }
            tally.add(result ?? .unreachable, name: target.name)
        }
        output.streams.diagnostic(tally.summary)
        return tally.status
    }

    /// One target's whole run (connect, lines, disconnect), stopped at `--timeout` or Ctrl-C.
    private func run(_ target: FleetTarget, interruption: FleetInterruption) async -> FleetTargetResult {
        let targetOutput = output.output(for: target.name)
        defer { targetOutput.flush() }
        let progress = TargetProgress()
        let work = Task(executorPreference: executor) {
            let result = await runLines(on: target, output: targetOutput, progress: progress)
            progress.finish()
            return result
        }
        let stop: @Sendable (String) -> Void = { reason in
            guard progress.stop(reason) else { return }
            work.cancel()
            if let client = progress.client { Task { await client.disconnect() } }
        }
        let timer = settings.timeout.map { timeout in
            Task {
                try? await Task.sleep(for: timeout)
                if !Task.isCancelled { stop("no answer within \(timeout.secondsText) (--timeout)") }
            }
        }
        let token = interruption.onInterrupt { stop("interrupted") }
        let result = await work.value
        timer?.cancel()
        interruption.remove(token)
        guard let reason = progress.stopReason else { return result }
        targetOutput.diagnostic(settings.formatter.error("qmp-shell: \(reason)"))
        return progress.isConnected ? .failed : .unreachable
    }

    private func runLines(on target: FleetTarget, output: TargetOutput, progress: TargetProgress) async
        -> FleetTargetResult
    {
        let formatter = settings.formatter
        let connector = settings.connector(for: target, output: output) { progress.client = $0 }
        let client: QMPClient
        let listener: EventListener
        switch await connector.connectClient(notice: { output.diagnostic(formatter.notice($0)) }) {
        case .success(let pair): (client, listener) = pair
        case .failure(let error):
            if progress.stopReason == nil { output.diagnostic(formatter.error("qmp-shell: \(error)")) }
            return .unreachable
        }
        progress.connected(client)
        defer { Task(executorPreference: executor) { await client.disconnect() } }
        let link = ServerLink(client: client, listener: listener)
        let printer = EventPrinter(link: link, output: output, formatter: formatter)
        let printing = Task(executorPreference: executor) { await printer.run() }
        defer { printing.cancel() }
        var configuration = settings.configuration
        configuration.quitNotice = target.quitNotice
        let runner = CommandRunner(
            link: link, configuration: configuration, printer: printer, formatter: formatter,
            schema: settings.schemaStore(for: link, output: output))
        var failures = 0
        for source in script.sources {
            var lines = ArrayLineSource(source.lines)
            let outcome = await runner.runScript(named: source.name, from: &lines, file: source.file)
            if progress.stopReason != nil { break }
            switch outcome {
            case .completed(let failed): failures += failed
            case .stopped: return .failed
            case .quit: return failures > 0 ? .failed : .succeeded
            case .connectionLost(let message):
                printer.printDiagnostic(formatter.error("qmp-shell: \(message)"))
                return .unreachable
            }
        }
        printer.flush()
        return failures > 0 ? .failed : .succeeded
    }
}

/// What the timer and Ctrl-C need to know of a target at work: its client, to end it, and whether
/// it was stopped (and why).
final class TargetProgress: Sendable {
    private let state = Mutex<(client: QMPClient?, connected: Bool, stopReason: String?, finished: Bool)>(
        (nil, false, nil, false))

    /// The client being connected or in use.
    var client: QMPClient? {
        get { state.withLock { $0.client } }
        set { state.withLock { $0.client = newValue } }
    }

    var stopReason: String? { state.withLock { $0.stopReason } }

    func connected(_ client: QMPClient) {
        state.withLock {
            $0.client = client
            $0.connected = true
        }
    }

    var isConnected: Bool { state.withLock { $0.connected } }

    /// Its lines have all run (or it could not go on): a stop no longer concerns it.
    func finish() { state.withLock { $0.finished = true } }

    /// Records why the target is stopped; `false` if it was stopped already or is done.
    func stop(_ reason: String) -> Bool {
        state.withLock { state in
            guard state.stopReason == nil, !state.finished else { return false }
            state.stopReason = reason
            return true
        }
    }
}
