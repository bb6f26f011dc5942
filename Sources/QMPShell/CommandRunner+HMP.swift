import QMP
import ShellSystem

/// HMP mode (`-H`): each line is a command of QEMU's human monitor, sent through
/// `human-monitor-command`.
extension CommandRunner {
    func runHMP(_ line: String) async -> LineOutcome {
        let command = line.trimmingWhitespace()
        if command.isEmpty || command.hasPrefix("#") { return .success }
        let words = command.split(separator: " ", omittingEmptySubsequences: true)
        if words.count == 2, words[0] == "cpu" {
            guard let index = Int(words[1]), index >= 0 else {
                return .failed("cpu: expected a CPU number, got '\(words[1])'")
            }
            if let refused = await refusal(ofCPU: index) { return refused }
            cpuIndex = index
            return .success
        }
        var arguments: JSONObject = ["command-line": .string(command)]
        if let cpuIndex { arguments["cpu-index"] = .number(JSONNumber(cpuIndex)) }
        let message: JSONObject = ["execute": "human-monitor-command", "arguments": .object(arguments)]
        var hmpError: String?
        // HMP answers with text, shown once as QEMU wrote it (its lines end with "\r\n"), or
        // reported as the line's failure when it is one of HMP's error replies.
        let outcome = await send(message) { reply in
            guard let text = reply["return"]?.stringValue else { return nil }
            if let error = HMPReply.error(in: text) {
                hmpError = error
                return nil
            }
            // Its lines as they are; no other control characters (the server's text, for a terminal).
            let shown = text.escapingControlCharacters(keepingLines: true)
            return shown.isEmpty || shown.last?.isNewline == true ? shown : shown + "\n"
        }
        if outcome == .success, let hmpError { return .failed(hmpError) }
        return outcome
    }

    /// Why `cpu INDEX` is refused: the machine has no such CPU (from `query-cpus-fast`, as the
    /// peer checks at once), so that later lines are not all refused by QEMU instead. `nil` when
    /// the CPU exists, in a dry run, or when the server cannot list its CPUs (QEMU before 2.12
    /// then judges each line itself).
    func refusal(ofCPU index: Int) async -> LineOutcome? {
        let connected: QMPClient?
        do throws(LineOutcomeError) { connected = try currentClient() } catch { return error.outcome }
        guard let client = connected else { return nil }
        let cpus: [JSONValue]
        do throws(QMPError) {
            cpus = try await client.execute("query-cpus-fast", timeout: configuration.commandTimeout).arrayValue ?? []
        } catch {
            if case .commandFailed = error { return nil }
            return Self.outcome(of: error)
        }
        let indices = cpus.compactMap { $0["cpu-index"]?.intValue }.sorted()
        if indices.contains(index) { return nil }
        let known =
            indices.isEmpty ? "this machine has no CPU" : "CPUs: \(indices.map(String.init).joined(separator: ", "))"
        return .failed("cpu: there is no CPU \(index) (\(known))")
    }

}
