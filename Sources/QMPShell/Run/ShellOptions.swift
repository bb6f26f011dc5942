/// What one run of the shell was asked to do: the command line, parsed and validated by the
/// executable, in the terms the run modes need.
public struct ShellOptions: Sendable {
    /// When to colour output (`--color`).
    public enum ColorChoice: String, Sendable, CaseIterable {
        case auto, always, never
    }

    /// A UNIX socket path or `HOST:PORT`; `nil` falls back to `$QMP_SOCKET`.
    public var address: String?
    /// Every address given (several make a fleet, see ``isFleet``).
    public var addresses: [String] = []
    /// `-H`: lines go through `human-monitor-command`.
    public var hmp = false
    /// `-v`: echo each QMP message sent.
    public var verbose = false
    /// `-p`: indent JSON output.
    public var pretty = false
    /// `-l FILE`: every message sent and received, as JSON lines.
    public var logfile: String?
    /// `-N`: no capabilities negotiation.
    public var skipNegotiation = false
    /// `-c LINE`, in order.
    public var commands: [String] = []
    /// `-f FILE` (`-` for standard input).
    public var script: String?
    /// `--keep-going`: a script goes on after a failed line.
    public var keepGoing = false
    /// `--command-timeout`, in seconds.
    public var commandTimeout: Double?
    /// `--dry-run`: print what each line would send; connect to nothing.
    public var dryRun = false
    /// `--no-schema-check`.
    public var noSchemaCheck = false
    /// `--event NAME`: only these events are shown (all when empty).
    public var events: [String] = []
    /// `--watch`, with `--count` and `--timeout` (seconds).
    public var watch = false
    public var count: Int?
    public var timeout: Double?
    /// `--record FILE`: the interactive lines that succeed, as a script.
    public var record: String?
    /// `-g`: the server is a guest agent.
    public var guestAgent = false
    /// `--color`.
    public var color: ColorChoice = .auto
    /// `--launch -- QEMU-COMMAND`: start this QEMU and stop it at the end.
    public var launch = false
    public var qemuCommand: [String] = []
    /// `--reconnect`, `--retry-delay` (seconds), `--retries`.
    public var reconnect = false
    public var retryDelay: Double = 1
    public var retries: Int?
    /// `--history FILE` and `--no-history`.
    public var history: String?
    public var noHistory = false
    /// `--domain`, `--connect` and `--list-domains`: a VM that libvirt manages.
    public var domain: String?
    public var connectURI: String?
    public var listDomains = false
    /// Every `--domain` (names and shell patterns), `--all-domains`, and `--parallel` for a fleet.
    public var domains: [String] = []
    public var allDomains = false
    public var parallel = FleetDefaults.parallel

    /// Several targets: more than one address or domain, a domain pattern, or `--all-domains`.
    public var isFleet: Bool {
        addresses.count > 1 || domains.count > 1 || domains.contains(where: FleetSelection.isPattern) || allDomains
    }

    public init() {}
}
