import QMPShell

extension QMPShellCommand {
    /// The options of a run on several targets, for ``Fleet``.
    func fleetOptions(configuration: ShellConfiguration) -> Fleet.Options {
        var options = Fleet.Options()
        options.addresses = addresses
        options.domains = domains
        options.allDomains = allDomains
        options.connectURI = LibvirtTarget.connectionURI(connectURI) { environmentValue($0) }
        options.commands = commands
        options.script = script
        options.watch = watch
        options.count = count
        options.parallel = parallel
        options.timeout = timeout.map { .milliseconds(Int(($0 * 1000).rounded(.up))) }
        if reconnect {
            options.retryPolicy = Connector.RetryPolicy(delay: .milliseconds(Int(retryDelay * 1000)), retries: retries)
        }
        options.guestAgent = guestAgent
        options.negotiate = !skipNegotiation
        options.configuration = configuration
        return options
    }
}
