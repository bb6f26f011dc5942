/// `qmp-shell --watch --count N` against a flooding fake server, in events per second, against
/// Python's qemu.qmp printing the same events as JSON lines (`Benchmarks/peers/qemu_qmp_watch.py`).
///
/// The server floods 200,000 events as soon as it has answered `qmp_capabilities`; the figure is
/// the count over the time from the first byte of the flood to the program's exit (start-up and
/// the handshake are not counted; printing, disconnecting and exiting are). Standard output is a
/// pipe the bench drains and counts: every side must print exactly N lines.
struct WatchBenchmark: Benchmark {
    let id = "watch"
    let eventCount = 200_000

    func run(in context: BenchContext) async throws -> [Comparison] {
        let server = try EventFloodServer(count: eventCount, trigger: .negotiation)
        defer { server.stop() }
        let comparison = try await context.compare(
            "--watch --count 200,000 to a pipe", peer: "qemu.qmp", metric: .rate("events/s"), goal: 10,
            ours: {
                let result = try await context.runChecked(
                    "qmp-shell --watch", context.ourShell,
                    ["--watch", "--count", String(eventCount), server.path], keepOutput: false, lines: eventCount,
                    timeout: .seconds(120))
                return try Self.rate(eventCount, server: server, result: result)
            },
            theirs: {
                let result = try await context.runChecked(
                    "qemu_qmp_watch.py", context.options.python,
                    [context.peerScript("qemu_qmp_watch.py"), "--socket", server.path, "--events", String(eventCount)],
                    keepOutput: false, lines: eventCount, timeout: .seconds(300))
                return try Self.rate(eventCount, server: server, result: result)
            })
        var row = comparison
        row.notes.append(
            "events from the first byte of the flood (sent right after qmp_capabilities) to the program's exit; "
                + "stdout is a pipe the bench drains")
        return [row]
    }

    /// Events per second from the server's flood start to the program's exit.
    static func rate(_ count: Int, server: EventFloodServer, result: SubprocessResult) throws -> Double {
        guard let start = server.lastFloodStart else { throw BenchError("the server never started its flood") }
        return Double(count) / Stopwatch.seconds(result.reapedAt - start)
    }
}
