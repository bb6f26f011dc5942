/// Every comparison `make bench` runs, in report order.
///
/// To add one: a `struct ...Benchmark: Benchmark` in a file of its own that sets up its fixture
/// (a ``EventFloodServer``-like fake, a `QEMUInstance`...), calls ``BenchContext/compare(_:peer:metric:goal:ours:theirs:)``
/// with one closure per side, and tears the fixture down; list it here. Whole programs (ours from
/// ``BenchContext/productsDirectory``, Python peers through ``BenchContext/runPythonPeer(_:_:timeout:)``
/// or ``Subprocess/run(_:_:input:environment:timeout:keepOutput:onStandardError:)``) give wall time and exact peak RSS through
/// ``SubprocessResult``; a peer script goes in `Benchmarks/peers` and prints one JSON line.
enum Benchmarks {
    static let all: [any Benchmark] = [
        EventThroughputBenchmark(),
        StartupBenchmark(),
        ReplayBenchmark(),
        WatchBenchmark(),
        WatchMemoryBenchmark(),
        SchemaBenchmark(),
        LiveTabBenchmark(),
        ProgressBenchmark(),
        LibvirtBenchmark(),
        FleetBenchmark(),
    ]
}
