import QMP
import QMPSchema
import QMPShell
import QMPTestSupport
import Synchronization

/// The schema, in-process against a real QEMU (`-M none`). No peer reads QEMU's schema, so the
/// rows inform (peer `-`); Tab has an absolute goal instead, checked in the notes.
///
/// - Building the model from `query-qmp-schema`'s reply as QEMU sent it (about 207 KB for 7.2):
///   JSON parse plus model, and the model alone from the parsed JSON; the median of 20 builds per
///   run.
/// - Loading it as a start does: from the cache file, and from QEMU (the round trip included).
/// - Tab: the 99th percentile of 2,000 completions of each kind, with the model built and the
///   device catalog filled (as after the first Tab on a `device_add` line), through the same
///   `Completer` the terminal thread calls. File names list `/usr/bin`, a large directory.
struct SchemaBenchmark: Benchmark {
    let id = "schema"
    /// Tab's goal: the 99th percentile under 5 ms for every kind.
    static let tabGoal = 0.005
    static let tabsPerKind = 2_000

    /// A line typed before Tab, for each kind of completion the schema brings.
    static let kinds: [(name: String, line: String)] = [
        ("argument names", "block-dirty-bitmap-add node=n0 "),
        ("nested members", "blockdev-add driver=qcow2 file.driver=file file."),
        ("enum values", "blockdev-add driver="),
        ("booleans", "blockdev-add driver=qcow2 lazy-refcounts="),
        ("union members by tag", "object-add qom-type=memory-backend-ram "),
        ("events after .wait", ".wait BLOCK_"),
        ("device types", "device_add driver="),
        ("device properties", "device_add driver=virtio-blk-pci "),
        ("file names (/usr/bin)", "screendump filename=/usr/bin/"),
    ]

    func run(in context: BenchContext) async throws -> [Comparison] {
        let qemu = try QEMUInstance()
        defer { qemu.kill() }
        let replies = Replies()
        var configuration = QMPClient.Configuration.patient
        configuration.messageObserver = { direction, text in
            if direction == .received, text.utf8.count > 100_000 { replies.keep(text) }
        }
        let client = QMPClient(configuration: configuration)
        try await client.connect(to: .unix(path: qemu.socketPath))
        defer { Task { await client.disconnect() } }

        let introspection = try await client.execute("query-qmp-schema")
        guard let reply = replies.last else { throw BenchError("the schema reply was not observed") }
        let schema = try QMPSchema(introspection: introspection)
        let cacheDirectory = try TemporaryDirectory(prefix: "qmp-bench-cache")
        let cache = SchemaCache(directory: cacheDirectory.path)
        let key = SchemaCache.Key(version: client.greeting?.version ?? "?", package: "bench", target: "x86_64")
        guard cache.save(introspection, for: key) else { throw BenchError("could not write the cache file") }

        let completer = try await Self.completer(schema: schema, client: client)
        let figures: [Metric] =
            [.seconds, .seconds, .seconds, .seconds] + Self.kinds.flatMap { _ in [Metric.seconds, .seconds] }
        let samples = try await context.alternate(["ours"], figures: figures, warmup: 1) { _ in
            try await Self.measureOnce(reply: reply, cache: cache, key: key, client: client, completer: completer)
        }[0]

        let size = "\(Format.grouped(Double(reply.utf8.count))) bytes, \(introspection.arrayValue?.count ?? 0) entries"
        var rows = [
            Comparison(
                name: "schema: parse + build the model", peer: "-", metric: .seconds, goal: nil, ours: samples[0]),
            Comparison(
                name: "schema: the model alone (JSON parsed)", peer: "-", metric: .seconds, goal: nil, ours: samples[2]),
            Comparison(name: "schema: from the cache file", peer: "-", metric: .seconds, goal: nil, ours: samples[1]),
            Comparison(
                name: "schema: query-qmp-schema + build", peer: "-", metric: .seconds, goal: nil, ours: samples[3]),
        ]
        rows[0].notes.append("QEMU \(client.greeting?.version ?? "?")'s reply: \(size); median of 20 builds per run")
        rows[3].notes.append("the round trip to QEMU included, as a start without a cache pays it")
        for (index, kind) in Self.kinds.enumerated() {
            var row = Comparison(
                name: "Tab p99: \(kind.name)", peer: "-", metric: .seconds, goal: nil, ours: samples[4 + 2 * index])
            row.notes.append("median Tab \(Metric.seconds.format(samples[5 + 2 * index].median))")
            rows.append(row)
        }
        let worst = Self.kinds.indices.map { samples[4 + 2 * $0].median }.max() ?? 0
        rows[4].notes.insert(
            "\(Format.grouped(Double(Self.tabsPerKind))) Tabs per kind and run; goal p99 under "
                + "\(Metric.seconds.format(Self.tabGoal)) for every kind (median of the runs): "
                + "\(worst < Self.tabGoal ? "met" : "NOT met"), the slowest kind \(Metric.seconds.format(worst))", at: 0
        )
        return rows
    }

    /// The completer the interactive shell uses, with the device catalog already filled.
    private static func completer(schema: QMPSchema, client: QMPClient) async throws -> Completer {
        let catalog = DeviceCatalog(client: client)
        for _ in 0..<400 {
            if catalog.typeNamesIfKnown() != nil, catalog.propertiesIfKnown(of: "virtio-blk-pci") != nil { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        let completer = Completer(hmp: false)
        completer.setCommandNames(schema.commandNames)
        completer.setArgumentCompleter(SchemaCompleter(schema: { schema }, devices: { catalog }))
        for kind in kinds where completer.complete(kind.line).candidates.isEmpty {
            throw BenchError("Tab offers nothing for '\(kind.line)'")
        }
        return completer
    }

    /// One run: build times, then Tab's 99th percentile for each kind, in seconds.
    private static func measureOnce(
        reply: String, cache: SchemaCache, key: SchemaCache.Key, client: QMPClient, completer: Completer
    ) async throws -> [Double] {
        var values = try measureBuilds(reply: reply, cache: cache, key: key)
        values.append(try await fetchSeconds(client))
        for kind in kinds {
            let (median, percentile99) = Stopwatch.latencies(of: tabsPerKind) { _ = completer.complete(kind.line) }
            values += [percentile99, median]
        }
        return values
    }

    /// Building the model from the reply's text, from the cache file, and from parsed JSON.
    private static func measureBuilds(reply: String, cache: SchemaCache, key: SchemaCache.Key) throws -> [Double] {
        let parsed = try JSONParser.parse(reply)["return"] ?? .null
        return [
            try medianSeconds(of: 20) { try buildModel(fromReply: reply) },
            try medianSeconds(of: 5) { try buildModel(fromCache: cache, key) },
            try medianSeconds(of: 20) { _ = try QMPSchema(introspection: parsed) },
        ]
    }

    /// `query-qmp-schema` and the model built from its answer.
    private static func fetchSeconds(_ client: QMPClient) async throws -> Double {
        let stopwatch = Stopwatch()
        let fetched: JSONValue
        do {
            fetched = try await client.execute("query-qmp-schema")
        } catch {
            throw BenchError("query-qmp-schema failed: \(error)")
        }
        do {
            _ = try QMPSchema(introspection: fetched)
        } catch {
            throw BenchError("the schema did not build: \(error)")
        }
        return stopwatch.elapsedSeconds
    }

    private static func buildModel(fromReply reply: String) throws {
        let message = try JSONParser.parse(reply)
        _ = try QMPSchema(introspection: message["return"] ?? .null)
    }

    private static func buildModel(fromCache cache: SchemaCache, _ key: SchemaCache.Key) throws {
        guard let stored = cache.load(key) else { throw BenchError("the cache file did not load") }
        _ = try QMPSchema(introspection: stored)
    }

    private static func medianSeconds(of count: Int, _ body: () throws -> Void) throws -> Double {
        var samples = Samples()
        for _ in 0..<count {
            let stopwatch = Stopwatch()
            try body()
            samples.append(stopwatch.elapsedSeconds)
        }
        return samples.median
    }

    /// The large replies the client received, as text (the observer runs on the connection's thread).
    private final class Replies: Sendable {
        private let texts = Mutex<[String]>([])

        func keep(_ text: String) { texts.withLock { $0.append(text) } }
        var last: String? { texts.withLock { $0.last } }
    }
}
