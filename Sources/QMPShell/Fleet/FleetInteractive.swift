import QMP
import QMPLineEditing
import QMPSchema
import ShellSystem

/// The interactive shell on several targets: a line goes to every connected target, their replies
/// come back grouped under each target's name as each finishes; events between lines are shown
/// at once, tagged (`NAME: {...}`); the prompt says how many targets are connected
/// (`(QEMU 3/4) `); `.targets` lists them with their state; Tab completes from the first target.
struct FleetInteractive {
    let settings: FleetSettings

    func run(_ targets: [FleetTarget]) async -> ExitStatus {
        let formatter = settings.formatter
        let completer = Completer(hmp: settings.configuration.hmp)
        let running = RunningLine()
        let editor: LineEditor
        do {
            editor = try LineEditor(
                historyFile: settings.configuration.historyFile, completer: { completer.complete($0) },
                onInterrupt: { running.interrupt() })
        } catch {
            StandardStreams().diagnostic("qmp-shell: \(error)\n")
            return .connection
        }
        defer { editor.close() }
        let screen = EditorOutput(editor: editor)
        let output = FleetOutput(streams: screen, style: .interactive, pretty: settings.configuration.pretty)
        let members = targets.map { FleetMember(target: $0, output: output.output(for: $0.name)) }
        await withTaskGroup(of: Void.self) { group in
            for member in members { group.addTask { await connect(member) } }
        }
        let connected = members.filter { $0.runner != nil }
        guard let first = connected.first?.runner else {
            editor.print(formatter.error("qmp-shell: no target could be reached"))
            return .connection
        }
        editor.print(
            "Welcome to the QMP low-level shell!\nConnected to \(connected.count) of \(members.count) targets "
                + "(.targets lists them)\n\n")
        if let schema = first.schema { completer.setArgumentCompleter(SchemaCompleter(store: schema)) }
        let learning = Task {
            if let client = first.link.client, let names = try? await client.execute("query-commands") {
                completer.setCommandNames(names.arrayValue?.compactMap { $0["name"]?.stringValue } ?? [])
            }
            first.schema?.startLoading()
        }
        defer { learning.cancel() }
        while true {
            let live = members.compactMap(\.runner)
            let inTransaction = live.first?.isInTransaction ?? false
            completer.setContinuingTransaction(inTransaction)
            running.forgetInterrupt()
            let prompt = inTransaction ? "TRANS> " : "(QEMU \(live.count)/\(members.count)) "
            switch await editor.readLine(prompt: prompt) {
            case .endOfInput:
                return .success
            case .interrupted:
                live.forEach { $0.resetTransaction() }
            case .line(let line):
                let text = line.trimmingWhitespace()
                if text == ".quit" { return .success }
                if text == ".targets" {
                    editor.print(members.map { $0.line.escapingControlCharacters + "\n" }.joined())
                    continue
                }
                // Help is the same everywhere: asked of the first target only.
                let asked = text.hasPrefix(".help") ? Array(live.prefix(1)) : live
                let askedMembers = members.filter { member in asked.contains { $0 === member.runner } }
                _ = await running.run { await runEverywhere(line, on: askedMembers) }
            }
        }
    }

    /// Runs `line` on every member at once; each member's output is shown in one piece when its
    /// run ends.
    private func runEverywhere(_ line: String, on members: [FleetMember]) async -> LineOutcome {
        let formatter = settings.formatter
        members.forEach { $0.output.hold() }
        await withTaskGroup(of: Void.self) { group in
            for member in members {
                guard let runner = member.runner else { continue }
                group.addTask {
                    switch await runner.run(line: line) {
                    case .success, .commandError, .quit: break
                    case .failed(let message): runner.printer.printDiagnostic(formatter.error(message))
                    case .connectionLost(let message):
                        runner.printer.printDiagnostic(formatter.error("qmp-shell: \(message)"))
                    }
                    member.output.flush()
                }
            }
        }
        return .success
    }

    /// Connects `member`, then shows its events as they come and notes when it goes away.
    private func connect(_ member: FleetMember) async {
        let formatter = settings.formatter
        let output = member.output
        // One attempt: the prompt waits for every target's first answer (--reconnect is for one target).
        var once = settings
        once.retryPolicy = nil
        let result = await once.connector(for: member.target, output: output) { _ in }.connectClient(notice: { _ in })
        guard case .success(let (client, listener)) = result else {
            if case .failure(let error) = result {
                member.failed(.unreachable(error.description))
                output.diagnostic(formatter.error("qmp-shell: \(error)"))
            }
            return
        }
        let link = ServerLink(client: client, listener: listener)
        let printer = EventPrinter(link: link, output: output, formatter: formatter)
        var configuration = settings.configuration
        configuration.quitNotice = member.target.quitNotice
        let runner = CommandRunner(
            link: link, configuration: configuration, printer: printer, formatter: formatter,
            schema: settings.schemaStore(for: link, output: output))
        member.connected(runner, version: client.greeting?.version.description ?? "?")
        Task {
            let printing = Task { await printer.run() }
            let cause = await client.waitUntilDisconnected()
            await printing.value
            let reason = cause?.description ?? "the connection ended"
            member.failed(.lost(reason))
            if !link.quitRequested { output.diagnostic(formatter.error("qmp-shell: \(reason)")) }
        }
    }
}
