import QMP

/// Which of the shell's modes a run is, decided from the options and whether standard input is
/// a terminal.
public enum RunMode: Sendable, Equatable {
    /// `--dry-run`: lines are checked and printed, nothing is connected.
    case dryRun
    /// `--list-domains`: the running domains of a libvirt connection.
    case listDomains
    /// `--watch`: events until the count, the timeout or the end.
    case watch
    /// The line-editing shell: no lines given and a terminal on standard input.
    case interactive
    /// `-c`, `-f`, or lines piped on standard input.
    case script

    public init(_ options: ShellOptions, standardInputIsTerminal: Bool) {
        if options.dryRun {
            self = .dryRun
        } else if options.listDomains {
            self = .listDomains
        } else if options.watch {
            self = .watch
        } else if options.commands.isEmpty && options.script == nil && standardInputIsTerminal {
            self = .interactive
        } else {
            self = .script
        }
    }
}

/// How the events a mode shows are queued between the connection and the printing.
public struct EventQueuePolicy: Sendable, Equatable {
    public var capacity: Int
    public var overflow: EventListener.OverflowPolicy

    /// `--watch` must print every event (`--count` counts them), so a full queue holds the server
    /// back instead of dropping, and it can be small: it only has to cover one batch of printing.
    /// The other modes show the latest events and say how many they dropped. libvirt cannot hold
    /// QEMU's events back, so through it `--watch` drops the oldest too (and says how many), from
    /// a queue as large as the interactive shell's.
    public init(mode: RunMode, throughLibvirt: Bool, configuration: ShellConfiguration) {
        if mode == .watch && !throughLibvirt {
            capacity = 2_000
            overflow = .pauseReading
        } else {
            capacity = configuration.eventQueueCapacity
            overflow = .dropOldest
        }
    }
}
