import QMP
import QMPLineSyntax

extension CommandRunner {
    /// The time `.job` gives a job to end unless told otherwise, as iotests' `run_job` does.
    static let defaultJobTimeout: Duration = .seconds(60)

    /// `.job ID [timeout=SECONDS] [dismiss=on|off]`: drives the job to its end; the line fails
    /// with the job's error, or when it is still running at the timeout.
    func job(_ text: String) async throws(LineOutcomeError) -> LineOutcome {
        let parsed = try arguments(of: .job, text)
        guard parsed.words.count == 1, let id = parsed.words.first else {
            return .failed("usage: \(Directive.job.usage)")
        }
        var timeout = Self.defaultJobTimeout
        var dismiss = true
        for member in parsed.arguments {
            switch (member.key, member.value) {
            case ("timeout", let value): timeout = try Self.timeout(value, of: .job)
            case ("dismiss", .bool(let flag)): dismiss = flag
            case ("dismiss", .string("on")): dismiss = true
            case ("dismiss", .string("off")): dismiss = false
            case ("dismiss", _): return .failed(".job: dismiss must be on or off")
            default: return .failed(".job: unknown argument '\(member.key)' (timeout=, dismiss=)")
            }
        }
        let client = try serverClient(for: ".job \(id)")
        var driver = JobDriver(client: client, id: id, dismiss: dismiss, commandTimeout: configuration.commandTimeout)
        if configuration.jobBarOnStandardError { driver.progress = StandardErrorBar().show }
        do throws(JobDriver.Failure) {
            switch try await driver.run(until: .now + timeout) {
            case .completed: return .success
            case .failed(let error): return .failed(".job \(id): \(error)")
            }
        } catch {
            switch error {
            case .noSuchJob:
                return .failed(".job: no job '\(id)' (query-jobs lists the jobs)")
            case .stillRunning(let status):
                if Task.isCancelled { return .failed(".job: interrupted") }
                return .failed(".job \(id): still \(status) after \(timeout.secondsText)")
            case .client(let error):
                return Self.outcome(of: error)
            }
        }
    }
}
