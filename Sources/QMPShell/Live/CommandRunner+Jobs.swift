import QMP
import QMPLineSyntax

extension CommandRunner {
    /// `.jobs`: the jobs (`query-jobs`) and the migration (`query-migrate`), once: a line each on
    /// a terminal, else one JSON object `{"jobs": [...], "migration": {...}}`.
    func jobs(_ text: String) async throws(LineOutcomeError) -> LineOutcome {
        guard text.trimmingWhitespace().isEmpty else { return .failed("usage: \(Directive.jobs.usage)") }
        let client = try serverClient(for: ".jobs")
        let jobs: JSONValue
        var migration: JSONValue?
        do throws(QMPError) {
            jobs = try await client.execute("query-jobs", timeout: configuration.commandTimeout)
            migration = try await client.execute("query-migrate", timeout: configuration.commandTimeout)
        } catch .commandFailed(let errorClass, _) where errorClass == "CommandNotFound" {
            return .failed(".jobs: this server has no query-jobs")
        } catch {
            return Self.outcome(of: error)
        }
        guard configuration.resultsOnTerminal else {
            var object: JSONObject = ["jobs": jobs]
            if let migration, ProgressLine(migration: migration) != nil { object["migration"] = migration }
            printer.printResult(formatter.json(object))
            return .success
        }
        var lines = (jobs.arrayValue ?? []).compactMap(ProgressLine.init(job:))
        if let migration, let line = ProgressLine(migration: migration) { lines.append(line) }
        let text = lines.map { line in
            line.text(bar: false) + (line.error.map { "  (\($0))" } ?? "")
        }
        printer.printResult(text.isEmpty ? "no jobs, no migration\n" : text.joined(separator: "\n") + "\n")
        return .success
    }
}
