import Logging

/// Shows the core library's warnings ("dropped a reply with an unknown id") as one line each
/// through the shell's output, so they never break the prompt or standard output's JSON.
public struct ShellLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let emit: @Sendable (String) -> Void

    public init(level: Logger.Level, emit: @escaping @Sendable (String) -> Void) {
        self.logLevel = level
        self.emit = emit
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let details = metadata.merging(event.metadata ?? [:]) { $1 }
        let suffix =
            details.isEmpty
            ? ""
            : " (" + details.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") + ")"
        // The message and its details can hold the server's text: one line, nothing for the terminal.
        emit("qmp-shell: \(event.level): \(event.message)\(suffix)".escapingControlCharacters + "\n")
    }
}
