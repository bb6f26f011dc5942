import QMP
import Synchronization

/// The connections of the interactive shell on several targets. Each target is tried once at
/// start (the prompt waits for every first answer, not for retries); then a task of its own
/// follows it (``ConnectionFollower``, as the shell on one target does): its events are shown as
/// they come, its loss is said under its name, and with `--reconnect` it is tried again until it
/// comes back (so is a target that could not be reached at start), which is said too.
/// ``changed`` hears of every change of state after the start, so the prompt's count of connected
/// targets can follow, and ``allGone`` of the last target lost for good.
final class FleetConnections: Sendable {
    let members: [FleetMember]
    private let settings: FleetSettings
    private let changed: @Sendable () -> Void
    private let allGone: @Sendable (_ byQuit: Bool) -> Void
    private let tasks = Mutex<[Task<Void, Never>]>([])
    /// Signalled by the members at each change of their state.
    private let memberChanges: ChangeSignal

    init(
        targets: [FleetTarget], output: FleetOutput, settings: FleetSettings, changed: @escaping @Sendable () -> Void,
        allGone: @escaping @Sendable (_ byQuit: Bool) -> Void
    ) {
        let changes = ChangeSignal()
        members = targets.map { FleetMember(target: $0, output: output.output(for: $0.name), changes: changes) }
        memberChanges = changes
        self.settings = settings
        self.changed = changed
        self.allGone = allGone
    }

    /// Tries every target once, all at once; each is followed from then on.
    func connectAll() async {
        await withTaskGroup(of: Void.self) { group in
            for member in members { group.addTask { await self.connect(member) } }
        }
    }

    /// Stops following: no more retries.
    func stop() {
        tasks.withLock { $0 }.forEach { $0.cancel() }
    }

    /// The targets connected now.
    var connected: [FleetMember] { members.filter(\.isConnected) }

    /// Whether no target is connected or may come back.
    var isAllGone: Bool { members.allSatisfy(\.isGone) }

    /// Why a target that the user's `quit` ended is gone.
    static let endedByQuit = "ended by quit"

    /// Whether every target is gone because the user's `quit` ended it.
    var allEndedByQuit: Bool {
        members.allSatisfy { member in
            if case .lost(let reason) = member.current { return reason == Self.endedByQuit }
            return false
        }
    }

    private func connect(_ member: FleetMember) async {
        let formatter = settings.formatter
        let output = member.output
        var once = settings
        once.retryPolicy = nil
        let connector = settings.connector(for: member.target, output: output) { _ in }
        let firstAttempt = once.connector(for: member.target, output: output) { _ in }
        switch await firstAttempt.connectClient(notice: { _ in }) {
        case .success(let (client, listener)):
            let runner = makeRunner(for: member, client: client, listener: listener)
            startFollowing { await self.follow(member, runner: runner, connector: connector) }
        case .failure(let error):
            guard let retryPolicy = settings.retryPolicy else {
                member.failed(.unreachable(error.description))
                output.diagnostic(formatter.error("qmp-shell: \(error)"))
                return
            }
            member.failed(.reconnecting(error.description))
            output.diagnostic(formatter.notice(Connector.retryingNotice(error, every: retryPolicy.delay)))
            startFollowing { await self.connectLate(member, connector: connector) }
        }
    }

    /// A target not reached at start, with `--reconnect`: tried until it answers, then followed.
    private func connectLate(_ member: FleetMember, connector: Connector) async {
        let formatter = settings.formatter
        switch await connector.connectClient(notice: { _ in }) {
        case .success(let (client, listener)):
            let runner = makeRunner(for: member, client: client, listener: listener)
            changed()
            member.output.diagnostic(formatter.notice(connector.connectedNotice(to: client)))
            await follow(member, runner: runner, connector: connector)
        case .failure(let error):
            guard !Task.isCancelled else { return }
            member.failed(.unreachable(error.description))
            changed()
            member.output.diagnostic(formatter.error(connector.gaveUpNotice(error)))
            noteLoss()
        }
    }

    /// Shows the events of each of `runner`'s connections until it ends, then says so and (with
    /// `--reconnect`) brings it back.
    private func follow(_ member: FleetMember, runner: CommandRunner, connector: Connector) async {
        let formatter = settings.formatter
        let output = member.output
        let follower = ConnectionFollower(link: runner.link, connector: connector)
        await follower.follow { client in
            let printing = Task { await runner.printer.run() }
            let cause = await client.waitUntilDisconnected()
            await printing.value
            return cause
        } change: { change in
            // The state first, so the prompt redrawn under the line already counts right.
            switch change {
            case .lost(let message):
                member.failed(.lost(Self.reason(message)))
                changed()
                output.diagnostic(formatter.error(message))
                noteLoss()
            case .reconnecting(let notice, let cause):
                member.failed(.reconnecting(cause.description))
                changed()
                output.diagnostic(formatter.notice(notice))
            case .reconnected(let notice, let client):
                member.connected(runner, version: client.greeting?.version.description ?? "?")
                changed()
                output.diagnostic(formatter.notice(notice))
            }
        }
        if runner.link.quitRequested {
            member.failed(.lost(Self.endedByQuit))
            changed()
            noteLoss()
        }
    }

    private func makeRunner(for member: FleetMember, client: QMPClient, listener: EventListener) -> CommandRunner {
        let formatter = settings.formatter
        let link = ServerLink(client: client, listener: listener)
        let printer = EventPrinter(link: link, output: member.output, formatter: formatter)
        var configuration = settings.configuration
        configuration.quitNotice = member.target.quitNotice
        let runner = CommandRunner(
            link: link, configuration: configuration, printer: printer, formatter: formatter,
            schema: settings.schemaStore(for: link, output: member.output))
        member.connected(runner, version: client.greeting?.version.description ?? "?")
        return runner
    }

    private func noteLoss() { if isAllGone { allGone(allEndedByQuit) } }

    /// Waits until a target is connected, or none may come any more (or the task is cancelled).
    func waitForAnyConnected() async {
        while true {
            // Read before the check, so a change during it ends the wait at once.
            let seen = memberChanges.count
            guard connected.isEmpty && !isAllGone && !Task.isCancelled else { return }
            await memberChanges.wait(after: seen)
        }
    }

    /// Runs `body` in a task of its own, cancelled by ``stop()``.
    private func startFollowing(_ body: @escaping @Sendable () async -> Void) {
        let task = Task { await body() }
        tasks.withLock { $0.append(task) }
    }

    /// "the connection ended" from "qmp-shell: the connection ended".
    private static func reason(_ message: String) -> String {
        message.hasPrefix("qmp-shell: ") ? String(message.dropFirst("qmp-shell: ".count)) : message
    }
}
