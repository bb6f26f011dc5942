import ShellSystem
import Glibc
import QMP

/// `--watch`: prints events as they arrive until a count, a timeout, or the end of the connection.
///
/// Events are taken from the listener in batches and each batch is written with one system call,
/// so a flood costs little per event; the listener's queue bounds memory and counts what it drops.
public struct EventWatcher {
    public enum Style: Sendable {
        /// One compact JSON object per line (standard output is not a terminal).
        case json
        /// `HH:MM:SS.mmm NAME {data}` in local time, for people.
        case readable
    }

    let listener: EventListener
    let style: Style
    let pretty: Bool
    let output: any ShellOutput

    public init(listener: EventListener, style: Style, pretty: Bool, output: any ShellOutput) {
        self.listener = listener
        self.style = style
        self.pretty = pretty
        self.output = output
    }

    /// How watching ended.
    public enum Outcome: Sendable, Equatable {
        case countReached
        case timedOut
        case connectionEnded
    }

    /// Prints events until `count` have been printed, `deadline` has passed, or the stream ends;
    /// returns how it ended and how many events it printed.
    public func run(count: Int?, deadline: ContinuousClock.Instant?) async -> (outcome: Outcome, printed: Int) {
        let timer: Task<Void, Never>? = deadline.map { deadline in
            Task { [listener] in
                try? await Task.sleep(until: deadline)
                // Wake the loop below even if no event comes.
                if !Task.isCancelled { listener.interruptWaiting() }
            }
        }
        defer { timer?.cancel() }
        var printed = 0
        while true {
            if let deadline, ContinuousClock.now >= deadline { return (.timedOut, printed) }
            let more = await listener.waitForEvents()
            var events = listener.drain()
            if let count { events = Array(events.prefix(count - printed)) }
            let dropped = listener.takeDroppedCount()
            if dropped > 0 {
                output.diagnostic(
                    "qmp-shell: \(dropped) events were dropped: they arrived faster than they could be written\n")
            }
            if !events.isEmpty {
                var bytes: [UInt8] = []
                bytes.reserveCapacity(events.count * 160)
                for event in events { append(event, to: &bytes) }
                output.result(String(decoding: bytes, as: UTF8.self))
                printed += events.count
            }
            if let count, printed >= count { return (.countReached, printed) }
            if !more && listener.isFinished { return (.connectionEnded, printed) }
        }
    }

    /// Appends `event`'s line to `bytes` (serialized straight into the batch's buffer: no string
    /// per event).
    private func append(_ event: QMPEvent, to bytes: inout [UInt8]) {
        let layout: JSONValue.Layout = pretty ? .pretty : .compact
        switch style {
        case .json:
            JSONValue.object(event.message).write(to: &bytes, layout: layout)
        case .readable:
            bytes.append(contentsOf: Self.localTime(event.timestamp).utf8)
            bytes.append(UInt8(ascii: " "))
            // The server's text, bound for a terminal (the data is JSON, escaped already).
            bytes.append(contentsOf: event.name.escapingControlCharacters.utf8)
            if !event.data.isEmpty {
                bytes.append(UInt8(ascii: " "))
                JSONValue.object(event.data).write(to: &bytes, layout: layout)
            }
        }
        bytes.append(UInt8(ascii: "\n"))
    }

    /// The event's time (or now, when QEMU sent -1) as local `HH:MM:SS.mmm`.
    static func localTime(_ timestamp: QMPEvent.Timestamp?) -> String {
        guard let timestamp, timestamp.seconds >= 0 else { return ClockText.localNow() }
        return ClockText.local(seconds: Int(timestamp.seconds), milliseconds: max(0, timestamp.microseconds) / 1000)
    }
}
