import Glibc
import QMPLineSyntax
import ShellSystem

/// Scripts: `-f`, standard input and `.source`, line by line.
extension CommandRunner {
    /// How a script run ended.
    public enum ScriptOutcome: Sendable, Equatable {
        /// Every line ran; `failures` of them failed (with `--keep-going`).
        case completed(failures: Int)
        /// A line failed and the run stopped there.
        case stopped
        /// `.quit`.
        case quit
        /// The connection is gone.
        case connectionLost(String)
    }

    /// Runs lines from `source`, naming failures `NAME:LINE: message` on the diagnostic stream.
    /// `file` is the script's path when it is a file, so a `.source` of it from inside is a cycle.
    public func runScript(named name: String, from source: inout some LineSource, file: String? = nil) async
        -> ScriptOutcome
    {
        if let file {
            sourceStack.append(Self.canonicalPath(file))
        }
        defer { if file != nil { sourceStack.removeLast() } }
        var lineNumber = 0
        var failures = 0
        var transactionStart = 0
        while true {
            let line: String
            do {
                guard let next = try await source.nextLine() else { break }
                line = next
            } catch {
                // The rest of the script cannot be read, so not even --keep-going can go on.
                printer.printDiagnostic(formatter.error("\(name):\(lineNumber + 1): \(error)"))
                return .stopped
            }
            lineNumber += 1
            let wasInTransaction = parser.isInTransaction
            let outcome = await run(line: line)
            if !wasInTransaction && parser.isInTransaction { transactionStart = lineNumber }
            switch outcome {
            case .success:
                continue
            case .quit:
                return .quit
            case .connectionLost(let message):
                return .connectionLost(message)
            case .failed(let message), .commandError(let message):
                printer.printDiagnostic(formatter.error("\(name):\(lineNumber): \(message)"))
                failures += 1
                if !configuration.keepGoing { return .stopped }
            }
        }
        if parser.isInTransaction {
            parser.reset()
            printer.printDiagnostic(formatter.error("\(name):\(transactionStart): transaction( is never closed with )"))
            failures += 1
            if !configuration.keepGoing { return .stopped }
        }
        return .completed(failures: failures)
    }

    func source(_ path: String) async -> LineOutcome {
        let canonical = Self.canonicalPath(path)
        if sourceStack.contains(canonical) {
            return .failed(
                ".source: \(path) is already being run (a cycle: \((sourceStack + [canonical]).joined(separator: " → ")))"
            )
        }
        var lines: FileLineSource
        do {
            lines = try FileLineSource(path: path)
        } catch {
            return .failed(".source: \(error.description)")
        }
        // The sourced file's lines run with their own transaction state.
        let outerParser = parser
        parser = LineParser(valueTyping: outerParser.valueTyping)
        defer { parser = outerParser }
        switch await runScript(named: path, from: &lines, file: path) {
        case .completed(let failures):
            return failures == 0 ? .success : .failed(".source \(path): \(failures) line(s) failed")
        case .stopped: return .failed(".source \(path) stopped at a failure")
        case .quit: return .quit
        case .connectionLost(let message): return .connectionLost(message)
        }
    }

    /// The absolute path without symbolic links, or `path` itself if it cannot be resolved.
    static func canonicalPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
