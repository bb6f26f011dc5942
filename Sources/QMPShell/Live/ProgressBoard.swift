import QMP
import QMPLineEditing
import Synchronization

/// Live progress of jobs and migration in the interactive shell: one line per job above the
/// prompt while something runs, and an ordinary line when it ends (completed, or its error).
///
/// It wakes on the events that start, move or end jobs and migrations, then polls `query-jobs`
/// (and `query-migrate` while a migration runs) at most twice a second, and only while something
/// runs; when nothing does, it waits for an event and asks nothing. Right after each connection
/// (and reconnection) it asks once, so a job or migration already under way when the shell
/// connects gets its line at once rather than at its next event (a running job may send none for
/// a long time).
public final class ProgressBoard: Sendable {
    /// Events that say a job or a migration started, moved or ended.
    static let eventNames: Set<String> = [
        "JOB_STATUS_CHANGE", "BLOCK_JOB_COMPLETED", "BLOCK_JOB_CANCELLED", "BLOCK_JOB_ERROR", "BLOCK_JOB_READY",
        "BLOCK_JOB_PENDING", "MIGRATION", "MIGRATION_PASS",
    ]
    /// The shortest time between two polls.
    static let pollInterval: Duration = .milliseconds(500)

    private let link: ServerLink
    /// The listener the board waits on now, and whether a line that may have started a migration
    /// ran (QEMU sends no MIGRATION events unless the `events` capability is on).
    private let wake = Mutex<(listener: EventListener?, migrationMayRun: Bool)>((nil, false))
    private let showStatus: @Sendable ([String]) -> Void
    private let printLine: @Sendable (ProgressLine) -> Void

    /// `showStatus` replaces the lines above the prompt; `printLine` prints a job's end.
    public init(
        link: ServerLink, showStatus: @escaping @Sendable ([String]) -> Void,
        printLine: @escaping @Sendable (ProgressLine) -> Void
    ) {
        self.link = link
        self.showStatus = showStatus
        self.printLine = printLine
    }

    /// What the board knows between polls.
    private struct Tracking {
        var lines: [String: ProgressLine] = [:]
        /// When each line was last sampled, for its rate.
        var sampled: [String: ContinuousClock.Instant] = [:]
        /// Ids whose end was already said (or that had ended before the shell looked).
        var ended: Set<String> = []
        var migrationActive = false
    }

    /// Runs until cancelled, across reconnections.
    public func run() async {
        while !Task.isCancelled {
            guard let client = link.client else {
                try? await Task.sleep(for: Self.pollInterval)
                continue
            }
            let listener = client.listen(to: Self.eventNames, capacity: 64)
            wake.withLock { $0.listener = listener }
            defer { client.unregister(listener) }
            // What ran before the shell looked: what still runs is drawn now; what ended is not
            // said (that was news to whoever ran it, not to this shell).
            var tracking = Tracking()
            tracking.migrationActive = true
            var running = await poll(client, &tracking, sayingEnds: false)
            while !Task.isCancelled, link.client === client {
                if running {
                    try? await Task.sleep(for: Self.pollInterval)
                } else {
                    showStatus([])
                    if !wake.withLock({ $0.migrationMayRun }) {
                        let more = await listener.waitForEvents()
                        if !more && listener.isFinished { break }
                    }
                }
                for event in listener.drain() where event.name == "MIGRATION" { note(event, &tracking) }
                if wake.withLock({ $0.migrationMayRun }) {
                    tracking.migrationActive = true
                    wake.withLock { $0.migrationMayRun = false }
                }
                running = await poll(client, &tracking)
            }
            showStatus([])
        }
    }

    /// The shell ran `line`: a `migrate` command makes the board look at the migration now.
    public func noteLine(_ line: String) {
        let command = line.drop { $0.isWhitespace }.prefix { !$0.isWhitespace }
        guard command == "migrate" || command == "migrate-incoming" || command == "migrate-recover" else { return }
        let listener = wake.withLock { wake -> EventListener? in
            wake.migrationMayRun = true
            return wake.listener
        }
        listener?.interruptWaiting()
    }

    private func note(_ event: QMPEvent, _ tracking: inout Tracking) {
        let status = event.data["status"]?.stringValue ?? ""
        if status == "setup" || status == "active" { tracking.migrationActive = true }
    }

    /// Asks the server what runs, says what ended (unless `sayingEnds` is false: then it only
    /// remembers it), draws what runs; returns whether anything does.
    private func poll(_ client: QMPClient, _ tracking: inout Tracking, sayingEnds: Bool = true) async -> Bool {
        let timeout = Duration.seconds(5)
        var current: [ProgressLine] = []
        if let jobs = try? await client.execute("query-jobs", timeout: timeout).arrayValue {
            current = jobs.compactMap(ProgressLine.init(job:))
        }
        if tracking.migrationActive, let migration = try? await client.execute("query-migrate", timeout: timeout) {
            let line = ProgressLine(migration: migration)
            if let line { current.append(line) }
            tracking.migrationActive = line?.isRunning ?? false
        }
        let now = ContinuousClock.now
        var shown: [String] = []
        var ends: [ProgressLine] = []
        var seen: Set<String> = []
        for var line in current {
            seen.insert(line.id)
            if let previous = tracking.lines[line.id], let then = tracking.sampled[line.id] {
                let seconds = Double((now - then) / .milliseconds(1)) / 1000
                if line.rate == nil, seconds > 0, line.current >= previous.current {
                    let sample = Double(line.current - previous.current) / seconds
                    // Smoothed, so the time left does not jump with each sample.
                    line.rate = previous.rate.map { 0.7 * $0 + 0.3 * sample } ?? sample
                }
            }
            tracking.lines[line.id] = line
            tracking.sampled[line.id] = now
            if line.isRunning {
                tracking.ended.remove(line.id)
                shown.append(line.text(bar: true))
            } else if !tracking.ended.contains(line.id) {
                tracking.ended.insert(line.id)
                if sayingEnds { ends.append(line) }
            }
        }
        // Jobs gone from the list (dismissed as they ended) ended too.
        for (id, line) in tracking.lines where !seen.contains(id) {
            tracking.lines[id] = nil
            tracking.sampled[id] = nil
            if line.isRunning, !tracking.ended.contains(id) {
                var ended = line
                ended.status = "concluded"
                ended.error = ended.error ?? JobDriver.blockJobError(id, in: client)
                ends.append(ended)
            }
            tracking.ended.remove(id)
        }
        // The lines above the prompt lose the ended jobs before their ends are said, so the screen
        // never shows a job's end under its own live line (the terminal may draw between the two).
        showStatus(shown)
        for line in ends { printLine(line) }
        return !shown.isEmpty
    }
}

extension ProgressBoard {
    /// A board drawing above `editor`'s prompt, saying each end through `printer` (in order with
    /// the events): plain when completed, as an error when the job failed.
    public convenience init(link: ServerLink, editor: LineEditor, printer: EventPrinter, formatter: OutputFormatter) {
        self.init(
            link: link, showStatus: { editor.setStatus($0.map(\.escapingControlCharacters)) },
            printLine: { line in
                let failed = line.error != nil || line.status == "failed"
                printer.printDiagnostic(
                    failed ? formatter.error(line.endText) : line.endText.escapingControlCharacters + "\n")
            })
    }
}
