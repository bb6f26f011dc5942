import Glibc
import ArgumentParser
import QMPSchema
import QMPShell

/// The command line: a drop-in for Python's qmp-shell (`-H -v -p -l -N`), plus scripting,
/// watching and launch options.
struct QMPShellCommand: ParsableCommand {
    static let version = "0.1.0"
    static let configuration = CommandConfiguration(
        commandName: "qmp-shell",
        abstract: "An interactive shell and script runner for the QEMU Machine Protocol (QMP).",
        // One paragraph per line: the help output wraps them to the terminal's width.
        discussion: """
            ADDRESS is a UNIX socket path or HOST:PORT ([::1]:4444 for IPv6); without it, $QMP_SOCKET.

            A VM that libvirt manages is reached with --domain NAME (a name, UUID or id) on --connect URI \
            (default: $LIBVIRT_DEFAULT_URI, else qemu:///system), through libvirt's QEMU passthrough.

            Several ADDRESSes, several --domain, a --domain pattern ('web-*') or --all-domains make a fleet: every \
            line runs on every target, --parallel N at once, each reply tagged with its target; the exit status is \
            3 if a target could not be reached, else 1 if a line failed on any.

            Lines are `command key=value ...`, raw JSON messages, or directives (.help lists them).

            Exit status: 0 success; 1 a command failed, a line did not parse or .wait timed out; \
            2 usage error; 3 could not connect, or the connection was lost.
            """,
        version: version
    )

    /// The addresses, then (after `--`) the QEMU command line of `--launch`: argument-parser allows
    /// one list of positional arguments, so the two are told apart by the `--` in the arguments.
    @Argument(
        help: ArgumentHelp(
            "UNIX socket path or HOST:PORT of the QMP server (default: $QMP_SOCKET); several make a fleet. "
                + "With --launch: the QEMU command line, after --.",
            valueName: "address"))
    var positionals: [String] = []

    /// How many of ``positionals`` came after `--`.
    private var wordsAfterTerminator: Int {
        let arguments = CommandLine.arguments.dropFirst()
        guard let terminator = arguments.firstIndex(of: "--") else { return 0 }
        return min(positionals.count, arguments.endIndex - terminator - 1)
    }

    /// The socket paths and `HOST:PORT`s.
    var addresses: [String] { Array(positionals.dropLast(wordsAfterTerminator)) }

    /// The one address of a single-target run.
    var address: String? { addresses.first }

    /// With `--launch`: the QEMU command line given after `--`.
    var qemuCommand: [String] { Array(positionals.suffix(wordsAfterTerminator)) }

    @Flag(
        name: [.customShort("H"), .long],
        help: "HMP mode: send lines through human-monitor-command; 'cpu N' picks the CPU.")
    var hmp = false

    @Flag(name: .shortAndLong, help: "Echo each QMP message sent.")
    var verbose = false

    @Flag(name: .shortAndLong, help: "Indent JSON output.")
    var pretty = false

    @Option(
        name: [.customShort("l"), .long],
        help: ArgumentHelp("Append every message sent and received to FILE as JSON lines.", valueName: "FILE"))
    var logfile: String?

    @Flag(name: [.customShort("N"), .long], help: "Skip capabilities negotiation (send qmp_capabilities yourself).")
    var skipNegotiation = false

    @Option(
        name: [.customShort("c"), .customLong("command")],
        help: ArgumentHelp("Run LINE, then exit (repeatable).", valueName: "LINE"))
    var commands: [String] = []

    @Option(
        name: [.customShort("f"), .customLong("script")],
        help: ArgumentHelp("Replay FILE ('-' for standard input), then exit.", valueName: "FILE"))
    var script: String?

    @Flag(help: "With -c/-f: go on after a failed line (exit 1 at the end if any failed).")
    var keepGoing = false

    @Option(
        help: ArgumentHelp(
            "With -c/-f: a line whose reply takes longer than SECONDS fails (default: wait as long as it takes).",
            valueName: "SECONDS"))
    var commandTimeout: Double?

    @Flag(help: "With -c/-f: print the JSON each line would send; connect to nothing.")
    var dryRun = false

    @Flag(help: "Do not refuse lines whose arguments do not fit the server's schema (values are still typed by it).")
    var noSchemaCheck = false

    @Option(
        name: .customLong("event"), help: ArgumentHelp("Show only events named NAME (repeatable).", valueName: "NAME"),
        // The names in the schemas cached by earlier sessions: no server is asked while completing.
        completion: .custom { _, _, prefix in
            (SchemaCache.standard()?.cachedEventNames() ?? []).filter { $0.hasPrefix(prefix) }
        })
    var events: [String] = []

    @Flag(help: "Print events as they arrive (JSON lines, or a readable form on a terminal) until interrupted.")
    var watch = false

    @Option(help: ArgumentHelp("With --watch: exit 0 after N events.", valueName: "N"))
    var count: Int?

    @Option(
        help: ArgumentHelp(
            "With --watch: stop after SECONDS (exit 1 if --count was not reached).", valueName: "SECONDS"))
    var timeout: Double?

    @Option(
        help: ArgumentHelp(
            "Interactive shell: append the lines that succeed to FILE, a script for -f.", valueName: "FILE"))
    var record: String?

    @Flag(name: [.customShort("g"), .long], help: "Talk to a guest agent (qemu-ga).")
    var guestAgent = false

    @Option(help: ArgumentHelp("Use colour (NO_COLOR is honoured).", valueName: "WHEN"))
    var color: ShellOptions.ColorChoice = .auto

    @Flag(help: "Start the QEMU command line given after -- with a private QMP socket, and stop it on exit.")
    var launch = false

    @Flag(help: "Keep trying when the server is not there yet or goes away, saying so inline.")
    var reconnect = false

    @Option(help: ArgumentHelp("With --reconnect: seconds between attempts.", valueName: "SECONDS"))
    var retryDelay: Double = 1

    @Option(help: ArgumentHelp("With --reconnect: give up after N failed attempts (default: never).", valueName: "N"))
    var retries: Int?

    @Option(help: ArgumentHelp("History file (default ~/.qmp-shell_history).", valueName: "FILE"))
    var history: String?

    @Flag(help: "Keep no history.")
    var noHistory = false

    @Option(
        name: .customLong("domain"),
        help: ArgumentHelp(
            "Talk to DOMAIN (a name, UUID or id) through libvirt instead of ADDRESS; repeatable, shell patterns "
                + "('web-*') select several.", valueName: "DOMAIN"),
        completion: .custom { words, _, _ in DomainCompletion.runningDomains(words: words) })
    var domains: [String] = []

    /// The one domain of a single-target run.
    var domain: String? { domains.first }

    @Flag(help: "Every running domain of the libvirt connection, as a fleet.")
    var allDomains = false

    @Option(
        help: ArgumentHelp(
            "With several targets: how many are worked on at once (default: \(FleetDefaults.parallel)).",
            valueName: "N"))
    var parallel: Int = FleetDefaults.parallel

    /// Several targets: more than one address or domain, a domain pattern, or --all-domains.
    var isFleet: Bool { options.isFleet }

    @Option(
        name: .customLong("connect"),
        help: ArgumentHelp("With --domain or --list-domains: libvirt's connection URI.", valueName: "URI"))
    var connectURI: String?

    @Flag(help: "Print the running domains of the libvirt connection, one per line, and exit.")
    var listDomains = false

    private func validateFleet() throws {
        if parallel < 1 { throw ValidationError("--parallel must be at least 1") }
        if allDomains && !domains.isEmpty {
            throw ValidationError("--all-domains already selects every domain: drop --domain")
        }
        if (allDomains || !domains.isEmpty) && !addresses.isEmpty {
            throw ValidationError("libvirt domains and socket addresses cannot be mixed in one run")
        }
        guard isFleet else { return }
        if launch { throw ValidationError("--launch starts one QEMU: give no other target") }
        if logfile != nil { throw ValidationError("-l/--logfile records one connection: not with several targets") }
        if record != nil { throw ValidationError("--record records one connection: not with several targets") }
    }

    func validate() throws {
        // Lines piped on standard input are a script, as with `-f -`.
        let hasLines = !commands.isEmpty || script != nil || isatty(0) != 1
        if dryRun && !hasLines {
            throw ValidationError("--dry-run needs lines to check: -c LINE, -f FILE or lines on standard input")
        }
        if keepGoing && !hasLines {
            throw ValidationError("--keep-going applies to -c, -f and lines on standard input")
        }
        if commandTimeout != nil && !hasLines {
            throw ValidationError("--command-timeout applies to -c, -f and lines on standard input")
        }
        if let commandTimeout, !(commandTimeout > 0) || commandTimeout > 86_400 {
            throw ValidationError("--command-timeout must be a positive number of seconds (at most a day)")
        }
        if record != nil && (hasLines || watch) {
            throw ValidationError(
                "--record records the interactive shell; -c, -f, standard input and --watch have nothing to record")
        }
        if count != nil && !watch { throw ValidationError("--count applies to --watch") }
        if timeout != nil && !watch && !isFleet {
            throw ValidationError("--timeout applies to --watch and to several targets")
        }
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        if let timeout, !(timeout > 0) { throw ValidationError("--timeout must be a positive number of seconds") }
        if watch && (!commands.isEmpty || script != nil || dryRun) {
            throw ValidationError("--watch cannot be combined with -c, -f or --dry-run")
        }
        if launch && qemuCommand.isEmpty {
            throw ValidationError(
                "--launch needs a QEMU command line after --, e.g. --launch -- qemu-system-x86_64 -M none")
        }
        if launch && address != nil {
            throw ValidationError("--launch makes its own socket: give no ADDRESS")
        }
        if !launch && !qemuCommand.isEmpty {
            throw ValidationError("a command line after -- needs --launch")
        }
        if reconnect && launch {
            throw ValidationError("--reconnect does not apply to --launch: the shell owns that QEMU")
        }
        if !(retryDelay > 0) || retryDelay > 3600 {
            throw ValidationError("--retry-delay must be between 0 and 3600 seconds")
        }
        if let retries, retries < 0 { throw ValidationError("--retries must not be negative") }
        if launch && guestAgent {
            throw ValidationError("--launch starts QEMU, not a guest agent: drop -g")
        }
        if history != nil && noHistory {
            throw ValidationError("--history and --no-history contradict each other")
        }
        if guestAgent && hmp {
            throw ValidationError("-g and -H cannot be combined: a guest agent has no HMP")
        }
        if domain != nil && (address != nil || launch) {
            throw ValidationError("--domain names the VM: give no ADDRESS and no --launch")
        }
        if domain != nil && guestAgent {
            throw ValidationError("--domain reaches QEMU's monitor, not a guest agent: drop -g")
        }
        if connectURI != nil && domain == nil && !listDomains && !allDomains {
            throw ValidationError("--connect applies to --domain, --all-domains and --list-domains")
        }
        try validateFleet()
        if listDomains && (domain != nil || address != nil || launch || !commands.isEmpty || script != nil || watch) {
            throw ValidationError("--list-domains only lists: give it nothing but --connect")
        }
    }
}

extension ShellOptions.ColorChoice: ExpressibleByArgument {}

extension QMPShellCommand {
    /// The run the command line asks for.
    var options: ShellOptions {
        var options = ShellOptions()
        options.address = address
        options.addresses = addresses
        options.hmp = hmp
        options.verbose = verbose
        options.pretty = pretty
        options.logfile = logfile
        options.skipNegotiation = skipNegotiation
        options.commands = commands
        options.script = script
        options.keepGoing = keepGoing
        options.commandTimeout = commandTimeout
        options.dryRun = dryRun
        options.noSchemaCheck = noSchemaCheck
        options.events = events
        options.watch = watch
        options.count = count
        options.timeout = timeout
        options.record = record
        options.guestAgent = guestAgent
        options.color = color
        options.launch = launch
        options.qemuCommand = qemuCommand
        options.reconnect = reconnect
        options.retryDelay = retryDelay
        options.retries = retries
        options.history = history
        options.noHistory = noHistory
        options.domain = domain
        options.domains = domains
        options.allDomains = allDomains
        options.parallel = parallel
        options.connectURI = connectURI
        options.listDomains = listDomains
        return options
    }
}
