/// `-c` lines, then `-f FILE` or the lines on standard input, one after the other.
struct ScriptMode {
    let options: ShellOptions

    /// -c lines, then -f (or standard input). Stops at the first failure unless --keep-going.
    func run(_ runner: CommandRunner, output: StandardStreams) async -> ExitStatus {
        var failures = 0
        var sources: [(String, any LineSource, file: String?)] = []
        if !options.commands.isEmpty { sources.append(("-c", ArrayLineSource(options.commands), nil)) }
        if let script = options.script {
            if script == "-" {
                sources.append(("<stdin>", FileLineSource(descriptor: 0), nil))
            } else {
                do {
                    sources.append((script, try FileLineSource(path: script), script))
                } catch {
                    output.diagnostic(runner.formatter.error("qmp-shell: \(error)"))
                    return .lineFailed
                }
            }
        }
        if options.commands.isEmpty && options.script == nil {
            sources.append(("<stdin>", FileLineSource(descriptor: 0), nil))
        }
        for (name, source, file) in sources {
            var source = source
            switch await runner.runScript(named: name, from: &source, file: file) {
            case .completed(let failed):
                failures += failed
            case .stopped:
                return .lineFailed
            case .quit:
                return failures > 0 ? .lineFailed : .success
            case .connectionLost(let message):
                runner.printer.printDiagnostic(runner.formatter.error("qmp-shell: \(message)"))
                return .connection
            }
        }
        return failures > 0 ? .lineFailed : .success
    }
}
