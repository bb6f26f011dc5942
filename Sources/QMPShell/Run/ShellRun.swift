import Glibc
import Logging
import QMP
import QMPSchema
import ShellSystem

/// One run of the shell: it wires the parts together (output, log, client, connection, schema,
/// runner) and hands over to the mode the options ask for. The executable builds the options
/// from the command line and calls ``run()``.
public struct ShellRun: Sendable {
    public let options: ShellOptions

    public init(options: ShellOptions) {
        self.options = options
    }

    public func run() async -> ExitStatus {
        let mode = RunMode(options, standardInputIsTerminal: isatty(0) == 1)
        // A script of one domain with no reply timeout makes libvirt's calls on the connection's
        // loop (LibvirtTarget.connect), which then waits in them: its output's timers run elsewhere.
        let libvirtLockStep = options.domain != nil && mode == .script && options.commandTimeout == nil
        // A script's replies to a pipe or a file go out in batches (see StandardStreams).
        let output = StandardStreams(
            batchingResults: mode != .interactive && mode != .watch && isatty(1) == 0,
            timersOffTheEventLoop: libvirtLockStep)
        defer { output.flush() }
        let configuration = ShellConfiguration(options, colorTerminal: isatty(mode == .interactive ? 0 : 1) == 1)
            .live(interactive: mode == .interactive)
        let formatter = OutputFormatter(pretty: options.pretty, color: configuration.color)
            .readingEvents(mode == .interactive)
        let diagnostics = DiagnosticSink(output)

        if mode == .dryRun {
            let link = ServerLink(client: nil, listener: nil)
            let printer = EventPrinter(link: link, output: output, formatter: formatter)
            // The schema the server named on the command line had last time, if the cache has it.
            let cached = (options.address ?? environmentValue("QMP_SOCKET")).flatMap { try? QMPAddress(parsing: $0) }
                .flatMap { SchemaCache.standard()?.schema(forServer: SchemaCache.serverName(of: $0)) }
            let runner = CommandRunner(
                link: link, configuration: configuration, printer: printer, formatter: formatter,
                schema: cached.map { SchemaStore(fixed: $0) })
            return await ScriptMode(options: options).run(runner, output: output)
        }

        if mode == .listDomains {
            let uri = LibvirtTarget.connectionURI(options.connectURI) { environmentValue($0) }
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

        if options.isFleet { return await Fleet(options: options, configuration: configuration).run() }

        let libvirtTarget = options.domain.map {
            LibvirtTarget(domain: $0, uri: options.connectURI) { environmentValue($0) }
        }
        var address: QMPAddress?
        if !options.launch && libvirtTarget == nil {
            guard let addressText = options.address ?? environmentValue("QMP_SOCKET") else {
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
        if let path = options.logfile {
            do {
                log = try MessageLog(path: path) { output.diagnostic("qmp-shell: warning: \($0)\n") }
                if let warning = log?.warning { output.diagnostic("qmp-shell: warning: \(warning)\n") }
            } catch {
                output.diagnostic("qmp-shell: warning: \(error)\n")
            }
        }
        var clientConfiguration = QMPClient.Configuration()
        clientConfiguration.mode = options.guestAgent ? .guestAgent : .qmp
        clientConfiguration.negotiate = !options.skipNegotiation
        clientConfiguration.logger = Logger(label: "qmp") { _ in
            ShellLogHandler(level: .warning) { diagnostics.write($0) }
        }
        if let log { clientConfiguration.messageObserver = { log.record($0, $1) } }
        let queue = EventQueuePolicy(mode: mode, throughLibvirt: options.domain != nil, configuration: configuration)
        let makeClient: @Sendable () -> (QMPClient, EventListener) = { [clientConfiguration] in
            let client = QMPClient(configuration: clientConfiguration)
            let listener = client.listen(
                to: configuration.eventNames, capacity: queue.capacity, overflow: queue.overflow)
            return (client, listener)
        }

        let connected: (QMPClient, EventListener)
        var launcher: QEMULauncher?
        let connector: Connector
        let retries =
            options.reconnect
            ? Connector.RetryPolicy(delay: .milliseconds(Int(options.retryDelay * 1000)), retries: options.retries)
            : nil
        if address != nil || libvirtTarget != nil {
            if let libvirtTarget {
                connector = Connector(place: libvirtTarget.place, retryPolicy: retries, makeClient: makeClient) {
                    client throws(QMPError) in
                    try await libvirtTarget.connect(client, lockStep: libvirtLockStep)
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
                try started.start(options.qemuCommand)
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
            configuration.hmp || options.guestAgent
            ? nil
            : SchemaStore(
                currentClient: { link.client }, cache: SchemaCache.standard(),
                server: address.map(SchemaCache.serverName(of:)) ?? libvirtTarget?.place
            ) {
                diagnostics.write(formatter.notice("qmp-shell: \($0)"))
            }

        let status: ExitStatus
        if let schema, let problems = await EventNameCheck.problems(options.events, store: schema) {
            for problem in problems { output.diagnostic(formatter.error("qmp-shell: " + problem)) }
            status = .usage
        } else if mode == .watch {
            status = await WatchMode(options: options).run(
                link: link, connector: connector, output: output, formatter: formatter)
        } else if mode == .interactive {
            status = await InteractiveMode(options: options).run(
                link: link, connector: connector, configuration: configuration, formatter: formatter,
                diagnostics: diagnostics, schema: schema)
        } else {
            let printer = EventPrinter(link: link, output: output, formatter: formatter)
            let printing = Task { await printer.run() }
            let runner = CommandRunner(
                link: link, configuration: configuration, printer: printer, formatter: formatter, schema: schema)
            // Lock-step on the connection's own thread: no hand-off between threads per options.
            status = await withTaskExecutorPreference(ConnectionExecutor()) {
                await ScriptMode(options: options).run(runner, output: output)
            }
            printer.flush()
            printing.cancel()
        }
        await launcher?.stop(link.client)
        await link.client?.disconnect()
        return status
    }
}
