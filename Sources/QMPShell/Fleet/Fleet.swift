import Glibc
import QMP
import ShellSystem

/// A run on several targets at once (``ShellOptions/isFleet``): every line on every target, or
/// every target's events, or the interactive shell on all of them.
public struct Fleet: Sendable {
    public let options: ShellOptions
    public let configuration: ShellConfiguration

    public init(options: ShellOptions, configuration: ShellConfiguration) {
        self.options = options
        self.configuration = configuration
    }

    /// The libvirt connection: `--connect`, else `$LIBVIRT_DEFAULT_URI`, else `qemu:///system`.
    private var connectURI: String { LibvirtTarget.connectionURI(options.connectURI) { environmentValue($0) } }

    /// `--timeout`.
    private var timeout: Duration? { options.timeout.map { .milliseconds(Int(($0 * 1000).rounded(.up))) } }

    /// Resolves the targets and runs the lines on them; returns the run's exit status.
    public func run() async -> ExitStatus {
        let streams = StandardStreams()
        let formatter = OutputFormatter(pretty: configuration.pretty, color: configuration.color)
        let targets: [FleetTarget]
        do throws(QMPError) {
            targets = try await resolveTargets()
        } catch {
            streams.diagnostic(formatter.error("qmp-shell: \(error)"))
            return options.addresses.isEmpty ? .connection : .usage
        }
        Self.raiseOpenFileLimit()
        if !options.domains.isEmpty || options.allDomains {
            streams.diagnostic(
                formatter.notice(
                    "qmp-shell: note: commands go through libvirt's QEMU passthrough: libvirt marks these domains "
                        + "tainted (custom-monitor) the first time, and does not track changes made this way"))
        }
        let settings = settings(formatter: formatter)
        if options.watch {
            let diagnostics = FleetOutput(streams: streams, style: .json, pretty: false)
            return await FleetWatch(
                settings: settings, streams: streams, diagnostics: diagnostics, readable: isatty(1) == 1,
                count: options.count, timeout: timeout
            ).run(targets)
        }
        if options.commands.isEmpty && options.script == nil && isatty(0) == 1 {
            return await FleetInteractive(settings: settings).run(targets)
        }
        let script: FleetScript
        do throws(ShellError) {
            script = try await FleetScript.read(commands: options.commands, script: options.script)
        } catch {
            streams.diagnostic(formatter.error("qmp-shell: \(error)"))
            return .lineFailed
        }
        let output = FleetOutput(
            streams: streams, style: isatty(1) == 1 ? .grouped : .json, pretty: configuration.pretty)
        var scriptSettings = settings
        scriptSettings.clientConfiguration.enableOOB = script.mayUseOutOfBand
        return await FleetScriptRun(
            settings: scriptSettings, script: script, output: output, executor: ConnectionExecutor()
        ).run(targets)
    }

    private func resolveTargets() async throws(QMPError) -> [FleetTarget] {
        if !options.addresses.isEmpty { return try FleetSelection.addresses(options.addresses) }
        return try await FleetSelection.domains(options.domains, all: options.allDomains, uri: connectURI)
            .map(FleetTarget.domain)
    }

    private func settings(formatter: OutputFormatter) -> FleetSettings {
        var client = QMPClient.Configuration()
        client.mode = options.guestAgent ? .guestAgent : .qmp
        client.negotiate = !options.skipNegotiation
        // Per target, a tenth of what one connection keeps: memory grows with the fleet.
        client.historyLimit = 1_000
        client.historyByteLimit = 1 << 20
        // --watch holds a flooding server back with a small queue (libvirt cannot be held back:
        // its oldest events go, and are counted); the script mode keeps the latest events.
        let holdsServerBack = options.watch && options.addresses.count > 0
        return FleetSettings(
            configuration: configuration, formatter: formatter, clientConfiguration: client,
            retryPolicy: retryPolicy, parallel: options.parallel, timeout: options.watch ? nil : timeout,
            usesSchema: !configuration.hmp && !options.guestAgent,
            eventCapacity: options.watch ? 256 : 1_000, eventByteLimit: options.watch ? 256 << 10 : 1 << 20,
            overflow: holdsServerBack ? .pauseReading : .dropOldest)
    }

    /// `--reconnect` with `--retry-delay` and `--retries`.
    private var retryPolicy: Connector.RetryPolicy? {
        guard options.reconnect else { return nil }
        return Connector.RetryPolicy(delay: .milliseconds(Int(options.retryDelay * 1000)), retries: options.retries)
    }

    /// Each target holds a socket: lift the soft limit on open files to the hard one, so a fleet of
    /// a thousand is not refused by the default of 1,024.
    static func raiseOpenFileLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
