/// What the command line asked for, as the shell's parts need it.
public struct ShellConfiguration: Sendable {
    /// Indent JSON output (`-p`).
    public var pretty = false
    /// Echo each QMP message sent (`-v`).
    public var verbose = false
    /// Send lines as HMP commands through `human-monitor-command` (`-H`).
    public var hmp = false
    /// Print the JSON each line would send, connect to nothing (`--dry-run`).
    public var dryRun = false
    /// With -c/-f, go on after a failed line (`--keep-going`).
    public var keepGoing = false
    /// Only these events are shown (`--event`); empty shows all.
    public var eventNames: Set<String> = []
    /// Use ANSI colours in terminal output.
    public var color = false
    /// Results go to a terminal (the interactive shell, or standard output is one): directives
    /// that have a table for people (`.qom-tree`) show it instead of JSON lines.
    public var resultsOnTerminal = false
    /// The interactive shell draws live progress lines above the prompt (a terminal, without
    /// `NO_COLOR` or `TERM=dumb`).
    public var progressBars = false
    /// `.job` draws its job's progress on standard error (a script whose standard error is a
    /// terminal and standard output is not; without `NO_COLOR` or `TERM=dumb`).
    public var jobBarOnStandardError = false
    /// History file for the interactive shell; `nil` keeps no history.
    public var historyFile: String?
    /// Queue size for events waiting to be shown; beyond it the oldest are dropped and counted.
    public var eventQueueCapacity = 10_000
    /// Refuse, before sending, a line whose arguments do not fit the schema (unknown or missing
    /// arguments, values of the wrong type); off with `--no-schema-check`.
    public var schemaChecks = true
    /// Said on standard error when `quit` is sent, where quitting means more than it does on a
    /// socket (libvirt: the domain stops).
    public var quitNotice: String?
    /// How long a command's reply may take before its line fails (`--command-timeout`); `nil`
    /// waits as long as it takes.
    public var commandTimeout: Duration?

    public init() {}
}
