import Glibc
import Logging
import QMP
import QMPShell
import Synchronization

/// Wires the parts together for one run: output, log, client, runner; then the chosen mode.
struct ShellApplication {
    let command: QMPShellCommand

    func run() async -> ExitStatus {
        let output = StandardStreams()
        let interactive =
            command.commands.isEmpty && command.script == nil && !command.watch && isatty(0) == 1
            && !command.listDomains
        let configuration = makeConfiguration(interactive: interactive)
        let formatter = OutputFormatter(pretty: command.pretty, color: configuration.color)
        let diagnostics = DiagnosticSink(output)

        if command.dryRun {
            let link = ServerLink(client: nil, listener: nil)
            let printer = EventPrinter(link: link, output: output, formatter: formatter)
            let runner = CommandRunner(link: link, configuration: configuration, printer: printer, formatter: formatter)
            return await runNonInteractive(runner, output: output)
        }

        if command.listDomains {
            let uri = LibvirtTarget.connectionURI(command.connectURI) { environmentValue($0) }
            do throws(QMPError) {
                for name in try await LibvirtTarget.runningDomains(uri: uri) {
                    output.result(name + "\n")
                }
                return .success
            } catch {
                output.diagnostic(formatter.error("qmp-shell: \(error)"))
                return .connection
            }
        }

        if command.isFleet { return await Fleet(options: command.fleetOptions(configuration: configuration)).run() }

        let libvirtTarget = command.domain.map {
            LibvirtTarget(domain: $0, uri: command.connectURI) { environmentValue($0) }
        }
        var address: QMPAddress?
        if !command.launch && libvirtTarget == nil {
            guard let addressText = command.address ?? environmentValue("QMP_SOCKET") else {
                output.diagnostic(
                    "qmp-shell: no address: give a socket path or HOST:PORT, or set QMP_SOCKET (see --help)\n")
                return .usage
            }
            do {
                address = try QMPAddress(parsing: addressText)
            } catch {
                output.diagnostic("qmp-shell: \(error)\n")
                return .usage
            }
        }

        var log: MessageLog?
        if let path = command.logfile {
            do {
                log = try MessageLog(path: path) { output.diagnostic("qmp-shell: warning: \($0)\n") }
                if let warning = log?.warning { output.diagnostic("qmp-shell: warning: \(warning)\n") }
            } catch {
                output.diagnostic("qmp-shell: warning: \(error)\n")
            }
        }
        var clientConfiguration = QMPClient.Configuration()
        clientConfiguration.mode = command.guestAgent ? .guestAgent : .qmp
        clientConfiguration.negotiate = !command.skipNegotiation
        clientConfiguration.logger = Logger(label: "qmp") { _ in
            ShellLogHandler(level: .warning) { diagnostics.write($0) }
        }
        if let log { clientConfiguration.messageObserver = { log.record($0, $1) } }
        // --watch must print every event (--count counts them), so a full queue holds the server
        // back instead of dropping, and it can be small: it only has to cover one batch of
        // printing. The shell's other modes show the latest events and say how many they dropped.
        // libvirt cannot hold QEMU's events back, so through it --watch drops the oldest too
        // (and says how many), from a queue as large as the interactive shell's.
        let holdsServerBack = command.watch && command.domain == nil
        let overflow: EventListener.OverflowPolicy = holdsServerBack ? .pauseReading : .dropOldest
        let capacity = holdsServerBack ? 2_000 : configuration.eventQueueCapacity
        let makeClient: @Sendable () -> (QMPClient, EventListener) = { [clientConfiguration] in
            let client = QMPClient(configuration: clientConfiguration)
            let listener = client.listen(to: configuration.eventNames, capacity: capacity, overflow: overflow)
            return (client, listener)
        }

        let connected: (QMPClient, EventListener)
        var launcher: QEMULauncher?
        let connector: Connector
        let retries =
            command.reconnect
            ? Connector.RetryPolicy(delay: .milliseconds(Int(command.retryDelay * 1000)), retries: command.retries)
            : nil
        if address != nil || libvirtTarget != nil {
            if let libvirtTarget {
                connector = Connector(place: libvirtTarget.place, retryPolicy: retries, makeClient: makeClient) {
                    client throws(QMPError) in
                    try await libvirtTarget.connect(client)
                }
            } else {
                let address = address!
                connector = Connector(place: address.description, retryPolicy: retries, makeClient: makeClient) {
                    client throws(QMPError) in
                    try await client.connect(to: address)
                }
            }
            switch await connector.connectClient(notice: { output.diagnostic(formatter.notice($0)) }) {
            case .success(let pair): connected = pair
            case .failure(let error):
                output.diagnostic(formatter.error("qmp-shell: \(error)"))
                return .connection
            }
            if let libvirtTarget { output.diagnostic(formatter.notice(libvirtTarget.taintNotice)) }
        } else {
            do throws(ShellError) {
                let started = try QEMULauncher()
                launcher = started
                try started.start(command.qemuCommand)
                connected = makeClient()
                try await started.connect(connected.0)
            } catch {
                output.diagnostic(formatter.error("qmp-shell: \(error)"))
                await launcher?.stop(nil)
                return .connection
            }
            connector = Connector(place: "a QEMU it launched", retryPolicy: nil, makeClient: makeClient) {
                _ throws(QMPError) in
                throw .invalidState("a launched QEMU cannot be reconnected")
            }
        }
        let (client, listener) = connected
        let link = ServerLink(client: client, listener: listener)
        // HMP lines and the guest agent have no QMP schema.
        let schema =
            configuration.hmp || command.guestAgent
            ? nil
            : SchemaStore(link: link, cache: SchemaCache.standard()) {
                diagnostics.write(formatter.notice("qmp-shell: \($0)"))
            }

        let status: ExitStatus
        if command.watch {
            status = await runWatch(link: link, connector: connector, output: output, formatter: formatter)
        } else if interactive {
            status = await runInteractive(
                link: link, connector: connector, configuration: configuration, formatter: formatter,
                diagnostics: diagnostics, schema: schema)
        } else {
            let printer = EventPrinter(link: link, output: output, formatter: formatter)
            let printing = Task { await printer.run() }
            let runner = CommandRunner(
                link: link, configuration: configuration, printer: printer, formatter: formatter, schema: schema)
            // Lock-step on the connection's own thread: no hand-off between threads per command.
            status = await withTaskExecutorPreference(ConnectionExecutor()) {
                await runNonInteractive(runner, output: output)
            }
            printer.flush()
            printing.cancel()
        }
        await launcher?.stop(link.client)
        await link.client?.disconnect()
        return status
    }

    /// `--watch`: prints events until the count or the timeout; with `--reconnect` it follows the
    /// server across restarts (the count and the timeout span them), saying so on standard error.
    private func runWatch(link: ServerLink, connector: Connector, output: StandardStreams, formatter: OutputFormatter)
        async -> ExitStatus
    {
        let deadline = command.timeout.map { ContinuousClock.now + .milliseconds(Int($0 * 1000)) }
        let timedOut: ExitStatus = command.count == nil ? .success : .lineFailed
        var remaining = command.count
        while let client = link.client, let listener = link.listener {
            let watcher = EventWatcher(
                listener: listener, style: isatty(1) == 1 ? .readable : .json, pretty: command.pretty, output: output)
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

    private func runInteractive(
        link: ServerLink, connector: Connector, configuration: ShellConfiguration, formatter: OutputFormatter,
        diagnostics: DiagnosticSink, schema: SchemaStore?
    ) async -> ExitStatus {
        let completer = Completer(hmp: configuration.hmp)
        if let schema { completer.setArgumentCompleter(SchemaCompleter(store: schema)) }
        let running = RunningLine()
        let editor: LineEditor
        do {
            editor = try LineEditor(
                historyFile: configuration.historyFile,
                completer: { completer.complete($0) },
                onInterrupt: { running.interrupt() })
        } catch {
            StandardStreams().diagnostic("qmp-shell: \(error)\n")
            return .connection
        }
        let output = EditorOutput(editor: editor)
        diagnostics.redirect(to: output)
        let printer = EventPrinter(link: link, output: output, formatter: formatter)
        let runner = CommandRunner(
            link: link, configuration: configuration, printer: printer, formatter: formatter, schema: schema)
        let banner: String
        if command.guestAgent {
            banner = "Welcome to the QMP low-level shell!\nConnected to the guest agent at \(connector.place)\n\n"
        } else {
            let title = configuration.hmp ? "Welcome to the HMP shell!" : "Welcome to the QMP low-level shell!"
            let through = command.domain != nil ? " through libvirt: \(connector.place)" : ""
            banner = "\(title)\nConnected to QEMU \(link.client?.greeting?.version ?? "?")\(through)\n\n"
        }
        var recorder: ScriptRecorder?
        if let path = command.record {
            do {
                recorder = try ScriptRecorder(
                    path: path,
                    header:
                        "recorded by qmp-shell from QEMU \(link.client?.greeting?.version ?? "?") at \(connector.place)"
                )
                if let warning = recorder?.warning {
                    output.diagnostic(formatter.error("qmp-shell: warning: \(warning)"))
                }
            } catch {
                output.diagnostic(formatter.error("qmp-shell: warning: \(error)"))
            }
        }
        let shell = InteractiveShell(
            connector: connector, runner: runner, editor: editor, completer: completer, formatter: formatter,
            banner: banner, running: running, recorder: recorder)
        let status = await shell.run()
        editor.close()
        return status
    }

    private func makeConfiguration(interactive: Bool) -> ShellConfiguration {
        var configuration = ShellConfiguration()
        configuration.pretty = command.pretty
        configuration.verbose = command.verbose
        configuration.hmp = command.hmp
        configuration.dryRun = command.dryRun
        configuration.keepGoing = command.keepGoing
        configuration.schemaChecks = !command.noSchemaCheck
        configuration.commandTimeout = command.commandTimeout.map { .milliseconds(Int(($0 * 1000).rounded(.up))) }
        configuration.eventNames = Set(command.events)
        let colorTerminal =
            isatty(interactive ? 0 : 1) == 1 && environmentValue("NO_COLOR") == nil
            && environmentValue("TERM") != "dumb"
        switch command.color {
        case .always: configuration.color = true
        case .never: configuration.color = false
        case .auto: configuration.color = colorTerminal
        }
        if let domain = command.domain {
            configuration.quitNotice =
                LibvirtTarget(domain: domain, uri: command.connectURI) { environmentValue($0) }.quitNotice
        }
        if !command.noHistory {
            configuration.historyFile = command.history ?? environmentValue("HOME").map { $0 + "/.qmp-shell_history" }
        }
        return configuration
    }

    /// -c lines, then -f (or standard input). Stops at the first failure unless --keep-going.
    private func runNonInteractive(_ runner: CommandRunner, output: StandardStreams) async -> ExitStatus {
        var failures = 0
        var sources: [(String, any LineSource, file: String?)] = []
        if !command.commands.isEmpty { sources.append(("-c", ArrayLineSource(command.commands), nil)) }
        if let script = command.script {
            if script == "-" {
                sources.append(("<stdin>", FileLineSource(descriptor: 0), nil))
            } else {
                do {
                    sources.append((script, try FileLineSource(path: script), script))
                } catch {
                    output.diagnostic(runner.formatter.error("qmp-shell: \(error)"))
                    return .lineFailed
                }
            }
        }
        if command.commands.isEmpty && command.script == nil {
            sources.append(("<stdin>", FileLineSource(descriptor: 0), nil))
        }
        for (name, source, file) in sources {
            var source = source
            switch await runner.runScript(named: name, from: &source, file: file) {
            case .completed(let failed):
                failures += failed
            case .stopped:
                return .lineFailed
            case .quit:
                return failures > 0 ? .lineFailed : .success
            case .connectionLost(let message):
                runner.printer.printDiagnostic(runner.formatter.error("qmp-shell: \(message)"))
                return .connection
            }
        }
        return failures > 0 ? .lineFailed : .success
    }
}

/// An environment variable, if set and not empty.
func environmentValue(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    let text = String(cString: value)
    return text.isEmpty ? nil : text
}

/// Where the core's warnings go: standard error, then the line editor once it owns the terminal.
final class DiagnosticSink: Sendable {
    private let output: Mutex<any ShellOutput>

    init(_ output: any ShellOutput) { self.output = Mutex(output) }

    func redirect(to output: any ShellOutput) { self.output.withLock { $0 = output } }

    func write(_ text: String) { output.withLock { $0 }.diagnostic(text) }
}
