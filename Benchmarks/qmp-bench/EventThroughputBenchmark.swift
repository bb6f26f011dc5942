import QMP

/// Events per second through a listener: a fake server floods 200,000 events right after
/// answering `x-flood`; the client counts them off a listener. The rate is events over the time
/// from sending `x-flood` to receiving the last event.
///
/// Ours: `QMPClient` with a listener big enough never to drop. Peer: qemu.qmp's async `QMPClient`
/// (`Benchmarks/peers/qemu_qmp_events.py`), against the same server in this process.
struct EventThroughputBenchmark: Benchmark {
    let id = "events"
    let eventCount = 200_000

    func run(in context: BenchContext) async throws -> [Comparison] {
        let server = try EventFloodServer(count: eventCount)
        defer { server.stop() }
        var dropped = 0
        var peer = "qemu.qmp"
        var comparison = try await context.compare(
            "events through a listener", peer: "qemu.qmp", metric: .rate("events/s"), goal: 20,
            ours: {
                let (rate, lost) = try await Self.measureOurs(path: server.path, count: eventCount)
                dropped += lost
                return rate
            },
            theirs: {
                let report = try await context.runPythonPeer(
                    "qemu_qmp_events.py", ["--socket", server.path, "--events", String(eventCount)])
                let received = try report.double("events", from: "qemu_qmp_events.py")
                guard received == Double(eventCount) else {
                    throw BenchError("qemu.qmp received \(Int(received)) of \(eventCount) events")
                }
                peer = report["peer"]?.stringValue ?? peer
                return try report.double("rate", from: "qemu_qmp_events.py")
            })
        comparison.notes.append(
            "\(Format.grouped(Double(eventCount))) events per run against the same in-process fake server; "
                + "our listener dropped \(dropped) over all runs; peer: \(peer)")
        return [comparison]
    }

    /// One run of our client; returns events per second and how many the listener dropped.
    @concurrent
    static func measureOurs(path: String, count: Int) async throws -> (rate: Double, dropped: Int) {
        let client = QMPClient()
        try await client.connect(to: .unix(path: path))
        let listener = client.listen(capacity: 1 << 20)
        let stopwatch = Stopwatch()
        try await client.execute("x-flood")
        var received = 0
        for await _ in listener {
            received += 1
            if received == count { break }
        }
        let seconds = stopwatch.elapsedSeconds
        let dropped = listener.droppedCount
        client.unregister(listener)
        await client.disconnect()
        guard received == count else {
            throw BenchError(
                "our client received \(received) of \(count) events: \(client.disconnectCause.map { "\($0)" } ?? "")")
        }
        return (Double(received) / seconds, dropped)
    }
}
