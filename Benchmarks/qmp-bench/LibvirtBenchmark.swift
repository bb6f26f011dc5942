import Foundation
import QMPTestSupport
import Synchronization

/// Commands and events through libvirt's QEMU passthrough, on a domain of a private libvirtd
/// (`Benchmarks/run.sh` starts it, creates the domain and compiles the C client; their places come
/// as `--libvirt-uri`, `--libvirt-domain`, `--libvirt-client`).
///
/// Commands per second, six sides alternating run by run, each a whole program timed from the
/// spawn to the reaping:
/// - ours: `qmp-shell --domain D --connect URI -f FILE` with 1,000 `query-status` lines, and the
///   same with 1 line (its start-up: connecting, registering for events, `query-version`);
/// - the C client (`Benchmarks/libvirt_lockstep.c`): `virConnectOpen`, `virDomainLookupByName`,
///   then `virDomainQemuMonitorCommand` 1,000 times, printing each reply; the same with 1 call; the
///   same 1,000 with libvirt's event loop running on a thread (`--event-loop`), as ours runs it; and
///   with that loop and the registrations ours makes for events and the domain's end (`--events`);
/// - virsh: a shell loop of 100 `virsh -c URI qemu-monitor-command D '{"execute":"query-status"}'`.
///
/// Rows: ours against C with start-up included (1,000 / wall time), as medians and run by run (the
/// goal: the median of each run's ratio, ours and C taken back to back, since the server's own
/// pace drifts between runs), and with start-up subtracted (999 / (wall time of 1,000 - wall time
/// of 1), from the same run); ours against the C client with libvirt's event loop, and with the
/// loop and the registrations (no goal: they show what those cost); ours (start-up included) against virsh per command; the start-up
/// runs themselves.
///
/// Events: `qmp-shell --domain D --watch --event STOP --event RESUME --count 100 --timeout 60` while
/// one virsh session runs 50 `suspend D` / `resume D` pairs; the session starts once ours has
/// connected (it says so on standard error), and the figure is 100 events over the time from the
/// session's start to our exit. A run fails unless ours reached its count (exit 0), printed 50
/// STOP and 50 RESUME lines and dropped nothing.
struct LibvirtBenchmark: Benchmark {
    let id = "libvirt"
    let commandCount = 1_000
    let virshCount = 100
    let eventPairs = 50

    func run(in context: BenchContext) async throws -> [Comparison] {
        guard let uri = context.options.libvirtURI, let domain = context.options.libvirtDomain,
            let client = context.options.libvirtClient
        else {
            throw BenchError(
                "needs --libvirt-uri, --libvirt-domain and --libvirt-client: run it through Benchmarks/run.sh, "
                    + "which starts a private libvirtd, creates the domain and compiles the C client")
        }
        return try await commands(context, uri: uri, domain: domain, client: client)
            + events(context, uri: uri, domain: domain)
    }

    // MARK: - Commands

    private func commands(_ context: BenchContext, uri: String, domain: String, client: String) async throws
        -> [Comparison]
    {
        let directory = try TemporaryDirectory(prefix: "qmp-bench")
        let script = directory.file("replay.qmp")
        try String(repeating: "query-status\n", count: commandCount).write(
            toFile: script, atomically: false, encoding: .utf8)
        let oneLine = directory.file("one.qmp")
        try "query-status\n".write(toFile: oneLine, atomically: false, encoding: .utf8)
        let command = #"{"execute":"query-status"}"#
        // Exits at the first failure; virsh prints each reply followed by an empty line.
        let loop = #"for ((i = 0; i < $3; i++)); do virsh -c "$1" qemu-monitor-command "$2" "$4" || exit 1; done"#
        // Ours and the C client back to back, so that each run's pair meets the server alike.
        let sides = [
            "ours", "C", "ours, 1 line", "C, 1 call", "C + event loop", "C + events", "virsh x\(virshCount)",
        ]
        let samples = try await context.alternate(sides, figures: [.seconds], warmup: 1) { side in
            let expected: Int
            let result: SubprocessResult
            switch side {
            case 0, 2:
                expected = side == 0 ? commandCount : 1
                result = try await context.runChecked(
                    "qmp-shell --domain -f", context.ourShell,
                    ["--domain", domain, "--connect", uri, "-f", side == 0 ? script : oneLine], lines: expected,
                    timeout: .seconds(300))
            case 1, 3, 4, 5:
                expected = side == 3 ? 1 : commandCount
                let mode = side == 4 ? ["--event-loop"] : side == 5 ? ["--events"] : []
                result = try await context.runChecked(
                    "libvirt_lockstep", client, mode + [uri, domain, String(expected)],
                    lines: expected, timeout: .seconds(300))
            default:
                expected = virshCount
                result = try await context.runChecked(
                    "virsh loop", "/bin/bash", ["-c", loop, "bash", uri, domain, String(virshCount), command],
                    timeout: .seconds(300))
            }
            let replies = ReplayBenchmark.replies(in: result.outputText)
            guard replies == expected else {
                throw BenchError("\(sides[side]) printed \(replies) replies, not \(expected)")
            }
            return [result.wallSeconds]
        }
        let times = samples.map { $0[0].values }
        let count = Double(commandCount)
        func rates(_ values: [Double], _ numerator: Double) -> Samples {
            Samples(values: values.map { numerator / $0 })
        }
        // The same run's 1-line (1-call) time, taken off: what the other 999 commands cost.
        func marginal(_ whole: [Double], _ single: [Double]) throws -> Samples {
            let spans = zip(whole, single).map { $0 - $1 }
            guard spans.allSatisfy({ $0 > 0 }) else {
                throw BenchError("a run of 1 command took longer than the run of \(commandCount) beside it")
            }
            return rates(spans, count - 1)
        }
        let rate = Metric.rate("commands/s")
        let peer = "C client"
        var whole = Comparison(
            name: "libvirt: 1,000 query-status (-f)", peer: peer, metric: rate, goal: nil,
            ours: rates(times[0], count), theirs: rates(times[1], count))
        whole.notes.append(
            "through the passthrough (virDomainQemuMonitorCommand) of a private libvirtd, domain '\(domain)' (TCG, "
                + "q35, 64 MiB, no disk); whole programs, start-up included; the C client is "
                + "Benchmarks/libvirt_lockstep.c (gcc -O2, -lvirt-qemu -lvirt -lpthread); 1 warm-up run of every side")
        // libvirtd and QEMU answer the same client 1.3 to 8 ms a command from one minute to the
        // next on this machine, so the medians of the two sides mix different moments; each run's
        // own pair (ours, then C, back to back) does not.
        var pairedRow = Comparison(
            name: "libvirt: the same, run by run", peer: peer, metric: rate, goal: 0.9,
            ours: rates(times[0], count), theirs: rates(times[1], count))
        pairedRow.paired = true
        pairedRow.notes.append(
            "the ratio is the median of each run's own ratio (ours, then the C client right after); the columns "
                + "are the row above's")
        var marginalRow = Comparison(
            name: "libvirt: the same, start-up subtracted", peer: peer, metric: rate, goal: nil,
            ours: try marginal(times[0], times[2]), theirs: try marginal(times[1], times[3]))
        marginalRow.paired = true
        marginalRow.notes.append(
            "999 / (time of 1,000 commands - time of 1 command) from the same run; the ratio run by run, as above")
        // Ours against the C client with what a client that shows events needs (no goal).
        func againstC(_ variant: String, side: Int, note: String) -> Comparison {
            var row = Comparison(
                name: "libvirt: 1,000 query-status (-f)", peer: variant, metric: rate, goal: nil,
                ours: rates(times[0], count), theirs: rates(times[side], count))
            row.notes.append(note + "; start-up included")
            return row
        }
        let withLoop = againstC(
            "C + event loop", side: 4,
            note: "the C client with libvirt's default event loop run on a thread (libvirt_lockstep --event-loop), "
                + "as ours must to receive events")
        let withEvents = againstC(
            "C + events", side: 5,
            note: "the C client also registered as ours is to hear of events and of the domain's end "
                + "(libvirt_lockstep --events: keepalive, a QEMU monitor event callback, a lifecycle event callback)")
        var virsh = Comparison(
            name: "libvirt: query-status, per command", peer: "virsh", metric: rate, goal: 8,
            ours: rates(times[0], count), theirs: rates(times[6], Double(virshCount)))
        virsh.notes.append(
            "ours: 1,000 lines in one qmp-shell, start-up included; virsh: a bash loop of \(virshCount) "
                + "`virsh -c URI qemu-monitor-command D '\(command)'`, each a whole virsh")
        let startup = Comparison(
            name: "libvirt: start-up + 1 query-status", peer: peer, metric: .seconds, goal: nil,
            ours: Samples(values: times[2]), theirs: Samples(values: times[3]))
        return [whole, pairedRow, marginalRow, withLoop, withEvents, virsh, startup]
    }

    // MARK: - Events

    private func events(_ context: BenchContext, uri: String, domain: String) async throws -> [Comparison] {
        let eventCount = 2 * eventPairs
        // One virsh session: `suspend D; resume D; ...`.
        let session = Array(repeating: "suspend \(domain); resume \(domain)", count: eventPairs).joined(separator: "; ")
        // Both figures come from the same run: side 0 measures it, side 1 (next) reports its part.
        var producerSeconds = 0.0
        let samples = try await context.alternate(["ours", "virsh session"], figures: [.seconds], warmup: 1) { side in
            if side == 1 { return [producerSeconds] }
            let (watched, producer) = try await watchOneRun(
                context, uri: uri, domain: domain, eventCount: eventCount, session: session)
            producerSeconds = producer
            return [watched]
        }
        var row = Comparison(
            name: "libvirt: \(eventCount) STOP/RESUME events (--watch)", peer: "virsh session",
            metric: .rate("events/s"),
            goal: nil,
            ours: Samples(values: samples[0][0].values.map { Double(eventCount) / $0 }),
            theirs: Samples(values: samples[1][0].values.map { Double(eventCount) / $0 }))
        row.notes.append(
            "ours: --watch --event STOP --event RESUME --count \(eventCount) --timeout 60 while one virsh session runs "
                + "\(eventPairs) suspend/resume pairs; ours = \(eventCount) / (session start to our exit), virsh session = "
                + "\(eventCount) / the session's own time (how fast events were made: a ratio near 1 means we kept up); "
                + "every run reached its count with no event lost or dropped")
        return [row]
    }

    /// One events run: starts the watcher, waits until it has connected, runs the virsh session,
    /// and checks every event arrived. Returns (session start to our exit, the session's own time).
    private func watchOneRun(
        _ context: BenchContext, uri: String, domain: String, eventCount: Int, session: String
    ) async throws -> (Double, Double) {
        let (connected, signal) = AsyncStream.makeStream(of: Void.self)
        let seen = ErrorText()
        let watcher = Task {
            defer { signal.finish() }
            return try await Subprocess.run(
                context.ourShell,
                [
                    "--domain", domain, "--connect", uri, "--watch", "--event", "STOP", "--event", "RESUME",
                    "--count", String(eventCount), "--timeout", "60",
                ],
                timeout: .seconds(90),
                onStandardError: { bytes in
                    // The taint notice comes once the events are registered and the monitor answered.
                    if seen.append(bytes).contains("passthrough") { signal.yield() }
                })
        }
        var ready = false
        for await _ in connected {
            ready = true
            break
        }
        guard ready else {
            let result = try await watcher.value
            throw BenchError(
                "qmp-shell --watch through libvirt \(result.outcomeDescription) before it connected:\n"
                    + BenchContext.tail(result.errorText))
        }
        let start = ContinuousClock.now
        let producer: SubprocessResult
        do {
            producer = try await context.runChecked(
                "virsh suspend/resume", "virsh", ["-q", "-c", uri, session], timeout: .seconds(120))
        } catch {
            _ = try? await watcher.value
            throw error
        }
        let result = try await watcher.value
        guard result.succeeded else {
            throw BenchError(
                "qmp-shell --watch through libvirt \(result.outcomeDescription) (exit 1: --count \(eventCount) not "
                    + "reached within 60 s, events were lost):\n"
                    + BenchContext.tail(result.errorText + result.outputText))
        }
        let lines = result.outputText.split(separator: "\n")
        let stops = lines.count { $0.contains(#""STOP""#) }
        let resumes = lines.count { $0.contains(#""RESUME""#) }
        guard lines.count == eventCount, stops == eventPairs, resumes == eventPairs else {
            throw BenchError(
                "qmp-shell --watch printed \(lines.count) lines (\(stops) STOP, \(resumes) RESUME), not \(eventCount)")
        }
        guard !result.errorText.contains("dropped") else {
            throw BenchError("qmp-shell --watch dropped events:\n" + BenchContext.tail(result.errorText))
        }
        return (Stopwatch.seconds(result.reapedAt - start), producer.wallSeconds)
    }
}

/// Standard error as it arrives, from the pump's thread.
private final class ErrorText: Sendable {
    private let bytes = Mutex<[UInt8]>([])

    /// Adds `more` and returns everything so far.
    func append(_ more: [UInt8]) -> String {
        bytes.withLock { bytes in
            bytes += more
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
