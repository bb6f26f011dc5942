import Glibc
import QMP

/// A run on several targets at once, as the command line asked for it.
public struct Fleet: Sendable {
    /// What the command line said, as a fleet needs it.
    public struct Options: Sendable {
        /// Socket paths and `HOST:PORT`s, tagged as written.
        public var addresses: [String] = []
        /// Domain names (or UUIDs, ids) and shell patterns of names.
        public var domains: [String] = []
        /// Every running domain of ``connectURI``.
        public var allDomains = false
        /// The libvirt connection (already resolved: `--connect`, `$LIBVIRT_DEFAULT_URI`, ...).
        public var connectURI = "qemu:///system"
        /// `-c` lines.
        public var commands: [String] = []
        /// `-f FILE` (`-`: standard input).
        public var script: String?
        /// `--watch`, with `--count`.
        public var watch = false
        public var count: Int?
        public var parallel = FleetDefaults.parallel
        /// How long one target may take (`--timeout`).
        public var timeout: Duration?
        public var retryPolicy: Connector.RetryPolicy?
        /// `-g`: the targets are guest agents.
        public var guestAgent = false
        /// `-N` not given.
        public var negotiate = true
        public var configuration = ShellConfiguration()

        public init() {}
    }

    public let options: Options

    public init(options: Options) { self.options = options }

    /// Resolves the targets and runs the lines on them; returns the run's exit status.
    public func run() async -> ExitStatus {
        let streams = StandardStreams()
        let formatter = OutputFormatter(pretty: options.configuration.pretty, color: options.configuration.color)
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
                count: options.count, timeout: options.timeout
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
            streams: streams, style: isatty(1) == 1 ? .grouped : .json, pretty: options.configuration.pretty)
        return await FleetScriptRun(settings: settings, script: script, output: output)
            .run(targets)
    }

    private func resolveTargets() async throws(QMPError) -> [FleetTarget] {
        if !options.addresses.isEmpty { return try FleetSelection.addresses(options.addresses) }
        return try await FleetSelection.domains(options.domains, all: options.allDomains, uri: options.connectURI)
            .map(FleetTarget.domain)
    }

    private func settings(formatter: OutputFormatter) -> FleetSettings {
        var client = QMPClient.Configuration()
        client.mode = options.guestAgent ? .guestAgent : .qmp
        client.negotiate = options.negotiate
        // Per target, a tenth of what one connection keeps: memory grows with the fleet.
        client.historyLimit = 1_000
        client.historyByteLimit = 1 << 20
        // --watch holds a flooding server back with a small queue (libvirt cannot be held back:
        // its oldest events go, and are counted); the script mode keeps the latest events.
        let holdsServerBack = options.watch && options.addresses.count > 0
        return FleetSettings(
            configuration: options.configuration, formatter: formatter, clientConfiguration: client,
            retryPolicy: options.retryPolicy, parallel: options.parallel,
            timeout: options.watch ? nil : options.timeout,
            usesSchema: !options.configuration.hmp && !options.guestAgent,
            eventCapacity: options.watch ? 256 : 1_000, eventByteLimit: options.watch ? 256 << 10 : 1 << 20,
            overflow: holdsServerBack ? .pauseReading : .dropOldest)
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
