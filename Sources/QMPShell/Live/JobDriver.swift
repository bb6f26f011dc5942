import QMP

/// Drives one job to its end the way QEMU's iotests `run_job` does: each status change of the job
/// is acted on (`ready`: complete it; `pending`: finalize it; `concluded`: dismiss it), and its
/// error, read from `query-jobs` while it aborts or once it concluded, is the outcome.
struct JobDriver {
    let client: QMPClient
    let id: String
    let dismiss: Bool
    let commandTimeout: Duration?
    /// Shown the job's progress line (from `query-jobs`) about twice a second while it runs, and
    /// `nil` once it ends; `nil` shows nothing.
    var progress: (@Sendable (ProgressLine?) -> Void)? = nil

    /// How the job ended.
    enum Ending: Equatable {
        case completed
        case failed(String)
    }

    enum Failure: Error {
        case noSuchJob
        case stillRunning(status: String)
        case client(QMPError)
    }

    /// Runs the job to its end within `deadline`.
    func run(until deadline: ContinuousClock.Instant) async throws(Failure) -> Ending {
        var error: String?
        var acted: Set<String> = []
        // The job's state now, and where the news starts in the event stream.
        let sent = client.eventMark()
        let (jobs, replied) = try await queryJobs()
        var status: String
        var since = sent
        if let job = jobs.first(where: { $0["id"]?.stringValue == id }) {
            status = job["status"]?.stringValue ?? "undefined"
            error = job["error"]?.stringValue
            since = newsStart(sent: sent, replied: replied, status: status)
        } else if let ended = endedEarlier() {
            return ended
        } else {
            throw .noSuchJob
        }
        while true {
            if !acted.contains(status) {
                acted.insert(status)
                if let ending = try await act(on: status, error: &error) { return ending }
            }
            let jobID = id
            let event: QMPEvent
            do throws(QMPError) {
                event = try await nextStatusChange(since: since, until: deadline, id: jobID)
            } catch .timedOut {
                throw .stillRunning(status: status)
            } catch {
                throw .client(error)
            }
            since = EventMark(sequence: event.sequence)
            status = event.data["status"]?.stringValue ?? status
            // A status can come again (a mirror goes `ready` → `standby` → `ready`).
            if status == "running" || status == "standby" { acted.remove("ready") }
        }
    }

    /// Where the job's news starts: after its last status change between sending `query-jobs`
    /// and its reply that says `status` (the reply reflects it and what came before), or at the
    /// sending when none does. Not simply at the reply: QEMU may send events that happened after
    /// it read the state before the reply (it answers from a coroutine the main loop resumes
    /// later), and a job that ends then would never be seen to.
    private func newsStart(sent: EventMark, replied: EventMark, status: String) -> EventMark {
        let reflected = client.eventHistory.last { event in
            event.sequence > sent.sequence && event.sequence <= replied.sequence && event.name == "JOB_STATUS_CHANGE"
                && event.data["id"]?.stringValue == id && event.data["status"]?.stringValue == status
        }
        return reflected.map { EventMark(sequence: $0.sequence) } ?? sent
    }

    /// The job's next status change; with ``progress``, its line is shown every half second
    /// meanwhile.
    private func nextStatusChange(since: EventMark, until deadline: ContinuousClock.Instant, id: String)
        async throws(QMPError) -> QMPEvent
    {
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { throw .timedOut("") }
            let slice = progress == nil ? remaining : min(remaining, ProgressBoard.pollInterval)
            do throws(QMPError) {
                let event = try await client.waitForEvent(since: since, timeout: slice) {
                    $0.name == "JOB_STATUS_CHANGE" && $0.data["id"]?.stringValue == id
                }
                progress?(nil)
                return event
            } catch .timedOut where ContinuousClock.now < deadline && !Task.isCancelled {
                let jobs = try? await queryJobs().0
                let line = jobs?.compactMap(ProgressLine.init(job:)).first { $0.id == id }
                if let line, line.isRunning { progress?(line) }
            } catch {
                progress?(nil)
                throw error
            }
        }
    }

    /// Acts on `status`; returns the job's ending once it has one.
    private func act(on status: String, error: inout String?) async throws(Failure) -> Ending? {
        switch status {
        case "aborting":
            error = try await currentError() ?? error ?? "the job was cancelled"
        case "ready":
            try await execute("job-complete")
        case "pending":
            // Whether the job finalizes itself is not in query-jobs: one that does is concluded
            // by the time this reaches QEMU, and refuses it.
            try await execute("job-finalize", ignoringRefusal: true)
        case "concluded":
            if error == nil { error = try await currentError() }
            if dismiss { try await execute("job-dismiss", ignoringRefusal: true) }
            if !dismiss { return ending(error) }
        case "null":
            return ending(error ?? blockJobError())
        default:
            break
        }
        return nil
    }

    private func ending(_ error: String?) -> Ending {
        error.map { .failed($0) } ?? .completed
    }

    private func queryJobs() async throws(Failure) -> ([JSONValue], EventMark) {
        do throws(QMPError) {
            let reply = try await client.request(["execute": "query-jobs"], timeout: commandTimeout)
            if let failure = reply.message["error"] {
                throw QMPError.commandFailed(
                    errorClass: failure["class"]?.stringValue ?? "Error",
                    description: failure["desc"]?.stringValue ?? "")
            }
            return (reply.message["return"]?.arrayValue ?? [], reply.eventMark)
        } catch {
            throw .client(error)
        }
    }

    private func currentError() async throws(Failure) -> String? {
        let (jobs, _) = try await queryJobs()
        return jobs.first { $0["id"]?.stringValue == id }?["error"]?.stringValue
    }

    /// `job-complete`, `job-finalize` or `job-dismiss` on the job. `ignoringRefusal`: a job that
    /// finalizes or dismisses itself may have moved on (or be gone) when the command reaches it;
    /// the status changes that follow tell the rest.
    private func execute(_ command: String, ignoringRefusal: Bool = false) async throws(Failure) {
        do throws(QMPError) {
            try await client.execute(command, arguments: ["id": .string(id)], timeout: commandTimeout)
        } catch .commandFailed(_, let description)
            where ignoringRefusal && (description.contains("not found") || description.contains("cannot accept"))
        {
            return
        } catch {
            throw .client(error)
        }
    }

    /// The job's end as the event history tells it, for a job gone before `.job` asked: its
    /// `null` status change, with the error its block-job event carried.
    private func endedEarlier() -> Ending? {
        let history = client.eventHistory
        guard
            history.contains(where: {
                $0.name == "JOB_STATUS_CHANGE" && $0.data["id"]?.stringValue == id && $0.data["status"] == "null"
            })
        else { return nil }
        return ending(blockJobError())
    }

    /// The error a `BLOCK_JOB_COMPLETED` event of the job carried (an auto-dismissed block job
    /// leaves no other trace of it).
    private func blockJobError() -> String? {
        Self.blockJobError(id, in: client)
    }

    /// The error the last `BLOCK_JOB_COMPLETED` or `BLOCK_JOB_CANCELLED` of job `id` carried.
    static func blockJobError(_ id: String, in client: QMPClient) -> String? {
        client.eventHistory.last {
            ($0.name == "BLOCK_JOB_COMPLETED" || $0.name == "BLOCK_JOB_CANCELLED")
                && $0.data["device"]?.stringValue == id
        }.flatMap { event in
            event.data["error"]?.stringValue ?? (event.name == "BLOCK_JOB_CANCELLED" ? "the job was cancelled" : nil)
        }
    }
}
