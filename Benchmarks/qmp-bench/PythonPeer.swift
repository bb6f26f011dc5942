import QMP

extension BenchContext {
    /// Runs a peer script from `--peers` with `--python` and returns the JSON object it printed as
    /// its last line of output (peer scripts report their own figures that way).
    func runPythonPeer(_ script: String, _ arguments: [String], timeout: Duration = .seconds(600)) async throws
        -> JSONObject
    {
        let result = try await Subprocess.run(
            options.python, ["-u", peerScript(script)] + arguments, timeout: timeout)
        guard result.succeeded else {
            throw BenchError("\(script) \(result.outcomeDescription):\n\(Self.tail(result.errorText))")
        }
        let lastLine = result.outputText.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
        guard let report = (try? JSONParser.parse(lastLine))?.objectValue else {
            throw BenchError(
                "\(script) printed no JSON report; its output ended with:\n\(Self.tail(result.outputText + result.errorText))"
            )
        }
        return report
    }

    /// The last lines of a process's output, for an error message.
    static func tail(_ text: String, lines: Int = 15) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}

extension JSONObject {
    /// A number member as a `Double`, or an error naming what is missing.
    func double(_ key: String, from source: String) throws -> Double {
        guard let value = self[key]?.numberValue?.doubleValue, value.isFinite else {
            throw BenchError("\(source) reported no number \(key): \(serialized())")
        }
        return value
    }
}
