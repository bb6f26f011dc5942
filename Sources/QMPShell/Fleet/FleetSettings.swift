import Logging
import QMP
import QMPSchema

/// What every target of a fleet run shares: the shell's configuration, how clients are made,
/// how many targets are worked on at once, and how long one may take.
struct FleetSettings: Sendable {
    var configuration: ShellConfiguration
    var formatter: OutputFormatter
    var clientConfiguration: QMPClient.Configuration
    var retryPolicy: Connector.RetryPolicy?
    var parallel: Int
    var timeout: Duration?
    /// Whether replies are checked against each target's schema (not for HMP or a guest agent).
    var usesSchema: Bool
    /// How events reach each target's listener: `--watch` holds a flooding server back, the
    /// script and interactive modes drop the oldest and say so.
    var eventCapacity: Int
    var eventByteLimit: Int
    var overflow: EventListener.OverflowPolicy

    /// Connects `target`'s clients, their warnings going to `output`; `made` hears of each client
    /// as it is made, so a stuck connection can be ended from outside.
    func connector(
        for target: FleetTarget, output: any ShellOutput, made: @escaping @Sendable (QMPClient) -> Void
    ) -> Connector {
        var clientConfiguration = self.clientConfiguration
        clientConfiguration.logger = Logger(label: "qmp") { _ in
            ShellLogHandler(level: .warning) { output.diagnostic($0) }
        }
        let names = configuration.eventNames
        let capacity = eventCapacity
        let byteLimit = eventByteLimit
        let overflow = self.overflow
        return Connector(
            place: target.name, retryPolicy: retryPolicy,
            makeClient: { [clientConfiguration] in
                let client = QMPClient(configuration: clientConfiguration)
                made(client)
                return (client, client.listen(to: names, capacity: capacity, byteLimit: byteLimit, overflow: overflow))
            },
            connect: target.connect)
    }

    /// The schema store for a target's runner (each target is its own QEMU, perhaps another version).
    func schemaStore(for link: ServerLink, output: any ShellOutput) -> SchemaStore? {
        guard usesSchema else { return nil }
        let formatter = self.formatter
        return SchemaStore(currentClient: { link.client }, cache: SchemaCache.standard()) {
            output.diagnostic(formatter.notice("qmp-shell: \($0)"))
        }
    }
}
