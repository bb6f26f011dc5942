import QMP
import QMPLineEditing
import QMPSchema

/// The line-editing shell on a terminal: events above the prompt, Tab from the schema, the
/// history file, `--record`.
struct InteractiveMode {
    let options: ShellOptions

    func run(
        link: ServerLink, connector: Connector, configuration: ShellConfiguration, formatter: OutputFormatter,
        diagnostics: DiagnosticSink, schema: SchemaStore?
    ) async -> ExitStatus {
        let completer = Completer(hmp: configuration.hmp)
        let live = LiveValues(link: link)
        if let schema {
            completer.setArgumentCompleter(
                LiveCompleter(inner: SchemaCompleter(store: schema), schema: { schema.current }, live: live))
        }
        let running = RunningLine()
        let editor: LineEditor
        do {
            editor = try LineEditor(
                historyFile: configuration.historyFile,
                completer: { completer.complete($0) },
                onInterrupt: { running.interrupt() })
        } catch {
            StandardStreams().diagnostic("qmp-shell: \(error)\n")
            return .connection
        }
        let output = EditorOutput(editor: editor)
        diagnostics.redirect(to: output)
        let printer = EventPrinter(link: link, output: output, formatter: formatter)
        let runner = CommandRunner(
            link: link, configuration: configuration, printer: printer, formatter: formatter, schema: schema)
        let banner: String
        if options.guestAgent {
            banner = "Welcome to the QMP low-level shell!\nConnected to the guest agent at \(connector.place)\n\n"
        } else {
            let title = configuration.hmp ? "Welcome to the HMP shell!" : "Welcome to the QMP low-level shell!"
            let through = options.domain != nil ? " through libvirt: \(connector.place)" : ""
            banner = "\(title)\nConnected to QEMU \(link.client?.greeting?.version ?? "?")\(through)\n\n"
        }
        var recorder: ScriptRecorder?
        if let path = options.record {
            do {
                recorder = try ScriptRecorder(
                    path: path,
                    header:
                        "recorded by qmp-shell from QEMU \(link.client?.greeting?.version ?? "?") at \(connector.place)"
                )
                if let warning = recorder?.warning {
                    output.diagnostic(formatter.error("qmp-shell: warning: \(warning)"))
                }
            } catch {
                output.diagnostic(formatter.error("qmp-shell: warning: \(error)"))
            }
        }
        let shell = InteractiveShell(
            connector: connector, runner: runner, editor: editor, completer: completer, formatter: formatter,
            banner: banner, running: running, recorder: recorder)
        // qemu-ga runs no jobs: the board would only ask it what it does not know.
        let board =
            configuration.progressBars && !options.guestAgent
            ? ProgressBoard(link: link, editor: editor, printer: printer, formatter: formatter) : nil
        shell.afterEachLine = { line in
            live.invalidate()
            board?.noteLine(line)
        }
        let progress = Task { await board?.run() }
        let status = await shell.run()
        progress.cancel()
        editor.close()
        return status
    }
}
