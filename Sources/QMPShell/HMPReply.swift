/// Reads the text HMP answers through `human-monitor-command`.
///
/// HMP has no error channel there: a command that fails still gets a `return`, whose text says so.
/// Only the forms QEMU's monitor prints itself, the same for every command, count as errors:
///
/// - the whole reply is `unknown command: 'NAME'` (a name HMP does not know, `info` topics
///   included);
/// - the last line is `Try "help NAME" for more information` (arguments that did not parse,
///   after a line saying what was wrong);
/// - the first line starts with `Error: ` (what a command's QMP counterpart refused, as HMP's
///   `hmp_handle_error` prints it: `Error: Device 'nope' not found`).
///
/// Any other text is the command's output, even when a command words a failure its own way
/// (`drive_del x` answers `Device 'x' not found`): telling those apart would mean guessing at
/// every command's messages.
enum HMPReply {
    /// The error `text` reports, as one line (its lines joined by `; `), or `nil` if it is output.
    static func error(in text: String) -> String? {
        let lines = text.split(whereSeparator: \.isNewline).map(String.init)
        guard let first = lines.first, let last = lines.last else { return nil }
        let isError =
            (lines.count == 1 && first.hasPrefix("unknown command: '"))
            || (last.hasPrefix("Try \"help ") && last.hasSuffix("\" for more information"))
            || first.hasPrefix("Error: ")
        return isError ? lines.joined(separator: "; ") : nil
    }
}
