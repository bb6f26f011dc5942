import ShellSystem

extension ShellConfiguration {
    /// The configuration `options` ask for. `colorTerminal`: whether the output the mode writes
    /// to is a terminal that takes colour; `environment` reads a variable (`HOME`, `NO_COLOR`,
    /// `TERM`, libvirt's default URI).
    public init(
        _ options: ShellOptions, colorTerminal: Bool,
        environment: (String) -> String? = { environmentValue($0) }
    ) {
        self.init()
        pretty = options.pretty
        verbose = options.verbose
        hmp = options.hmp
        dryRun = options.dryRun
        keepGoing = options.keepGoing
        schemaChecks = !options.noSchemaCheck
        commandTimeout = options.commandTimeout.map { .milliseconds(Int(($0 * 1000).rounded(.up))) }
        eventNames = Set(options.events)
        switch options.color {
        case .always: color = true
        case .never: color = false
        case .auto: color = colorTerminal && environment("NO_COLOR") == nil && environment("TERM") != "dumb"
        }
        if let domain = options.domain {
            quitNotice = LibvirtTarget(domain: domain, uri: options.connectURI, environment: environment).quitNotice
        }
        if !options.noHistory {
            historyFile = options.history ?? environment("HOME").map { $0 + "/.qmp-shell_history" }
        }
    }
}
