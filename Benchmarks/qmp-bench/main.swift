import Glibc

// `make bench`: every comparison side by side with its peer, then the table of ratios.

// A child that exits early must not kill the harness while it writes the child's input.
signal(SIGPIPE, SIG_IGN)

let options: Options
do {
    options = try Options.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    print(error)
    exit(2)
}

let comparisons = await BenchRunner.run(options)
let failed = comparisons.contains { $0.failure != nil }
let missed = comparisons.contains { $0.goalMet == false }
exit(failed || (options.requireGoals && missed) ? 1 : 0)
