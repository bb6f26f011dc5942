/// The whole programs the comparisons run, and the checks that they did what was asked.
extension BenchContext {
    /// Our `qmp-shell`: `--shell`, or the release build next to this executable.
    var ourShell: String { options.shell ?? productsDirectory + "/qmp-shell" }

    /// A console script installed in the peers' venv, next to `--python` (Python's `qmp-shell`).
    func venvProgram(_ name: String) -> String {
        guard let slash = options.python.lastIndex(of: "/") else { return name }
        return String(options.python[...slash]) + name
    }

    /// Runs a program with ``Subprocess/run(_:_:input:environment:timeout:keepOutput:onStandardError:)`` and
    /// throws unless it exited 0 and printed `lines` lines (when given) to standard output.
    func runChecked(
        _ label: String, _ executable: String, _ arguments: [String], input: [UInt8] = [],
        keepOutput: Bool = true, lines: Int? = nil, timeout: Duration = .seconds(600)
    ) async throws -> SubprocessResult {
        let result = try await Subprocess.run(
            executable, arguments, input: input, timeout: timeout, keepOutput: keepOutput)
        guard result.succeeded else {
            throw BenchError(
                "\(label) \(result.outcomeDescription):\n\(Self.tail(result.errorText + result.outputText))")
        }
        if let lines, result.outputLineCount != lines {
            throw BenchError(
                "\(label) printed \(result.outputLineCount) lines, not \(lines):\n"
                    + Self.tail(result.errorText + result.outputText))
        }
        return result
    }
}

extension SubprocessResult {
    /// The peak RSS, after noting in `notes` (once) when it is only `wait4`'s upper bound.
    func peak(noting notes: inout Set<String>, _ label: String) -> Double {
        if !peakRSSIsExact {
            notes.insert("\(label): ptrace unavailable, peak memory is wait4's ru_maxrss (an upper bound)")
        }
        return peakRSSBytes
    }
}
