/// The command line: `qmp-bench --python PATH --peers DIR [--runs N] [--only ID]... [--require-goals]`.
struct Options: Sendable {
    /// The interpreter of the private venv that has the Python peers installed.
    var python = "python3"
    /// Where the peer scripts are (`Benchmarks/peers`).
    var peersDirectory = "Benchmarks/peers"
    /// Measurements per side.
    var runs = 5
    /// Benchmark ids to run; empty means all.
    var only: [String] = []
    /// Exit with status 1 when a goal is missed (by default only errors fail the run).
    var requireGoals = false
    /// Our `qmp-shell` to measure; by default the release build next to `qmp-bench`.
    var shell: String?
    /// The `libvirt` comparison's private libvirtd, its domain and the C client compiled from
    /// `Benchmarks/libvirt_lockstep.c` (`Benchmarks/run.sh` starts, creates and compiles them).
    var libvirtURI: String?
    var libvirtDomain: String?
    var libvirtClient: String?
    /// The `replay` comparison's C client, compiled from `Benchmarks/raw_lockstep.c`
    /// (`Benchmarks/run.sh` compiles it).
    var rawClient: String?
    /// The `fleet` comparison's C client, compiled from `Benchmarks/raw_fleet.c`
    /// (`Benchmarks/run.sh` compiles it).
    var rawFleetClient: String?

    static let usage = """
        usage: qmp-bench [--python PATH] [--peers DIR] [--shell PATH] [--runs N] [--only ID]... [--require-goals]
                         [--raw-client PATH] [--raw-fleet-client PATH] [--libvirt-uri URI --libvirt-domain NAME --libvirt-client PATH]

          --python PATH     Python with the peers installed (default: python3)
          --peers DIR       directory of the peer scripts (default: Benchmarks/peers)
          --shell PATH      our qmp-shell to measure (default: the one next to qmp-bench)
          --runs N          measurements per side; the table shows medians (default: 5)
          --only ID         run only this benchmark (repeatable); ids: \(Benchmarks.all.map(\.id).joined(separator: ", "))
          --require-goals   exit 1 if a comparison misses its goal
          --raw-client PATH       for `replay`: the C client built from Benchmarks/raw_lockstep.c
          --raw-fleet-client PATH for `fleet`: the C client built from Benchmarks/raw_fleet.c
          --libvirt-uri URI       for `libvirt`: the URI of a libvirtd the bench may use (Benchmarks/run.sh
                                  starts a private one)
          --libvirt-domain NAME   for `libvirt`: a running domain on it, which the bench suspends and resumes
          --libvirt-client PATH   for `libvirt`: the C client built from Benchmarks/libvirt_lockstep.c
        """

    static func parse(_ arguments: [String]) throws -> Options {
        var options = Options()
        var remaining = arguments[...]
        func value(for flag: String) throws -> String {
            guard let value = remaining.popFirst() else { throw BenchError("\(flag) needs a value\n\n\(usage)") }
            return value
        }
        while let argument = remaining.popFirst() {
            switch argument {
            case "--python": options.python = try value(for: argument)
            case "--peers": options.peersDirectory = try value(for: argument)
            case "--shell": options.shell = try value(for: argument)
            case "--runs":
                let text = try value(for: argument)
                guard let runs = Int(text), runs > 0 else {
                    throw BenchError("--runs wants a positive number, not \(text)")
                }
                options.runs = runs
            case "--only":
                let id = try value(for: argument)
                guard Benchmarks.all.contains(where: { $0.id == id }) else {
                    throw BenchError(
                        "no benchmark \(id); there are: \(Benchmarks.all.map(\.id).joined(separator: ", "))")
                }
                options.only.append(id)
            case "--require-goals": options.requireGoals = true
            case "--raw-client": options.rawClient = try value(for: argument)
            case "--raw-fleet-client": options.rawFleetClient = try value(for: argument)
            case "--libvirt-uri": options.libvirtURI = try value(for: argument)
            case "--libvirt-domain": options.libvirtDomain = try value(for: argument)
            case "--libvirt-client": options.libvirtClient = try value(for: argument)
            case "-h", "--help": throw BenchError(usage)
            default: throw BenchError("unknown argument \(argument)\n\n\(usage)")
            }
        }
        return options
    }
}
