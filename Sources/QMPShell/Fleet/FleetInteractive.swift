import QMP
import QMPLineEditing
import QMPSchema
import ShellSystem
import Synchronization

/// The interactive shell on several targets: a line goes to every connected target, their replies
/// come back grouped under each target's name as each finishes; events between lines are shown
/// at once, tagged (`NAME: {...}`); the prompt says how many targets are connected
/// (`(QEMU 3/4) `), and changes while the user types when one goes away or (with `--reconnect`)
/// comes back, which is said above it (``FleetConnections``); a line names once the targets it
/// was not sent to. `.targets` lists them with their state; Tab completes from the first target;
/// `.help` answers from it too, and says where else a command is missing (``FleetHelpCheck``).
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
        // Set when no target is left: whether the user's `quit` ended every one of them.
        let endedByQuit = Mutex<Bool?>(nil)
        let connections = FleetConnections(
            targets: targets, output: output, settings: settings, changed: { editor.refreshPrompt() },
            allGone: { byQuit in
                // Nothing left to send lines to, nor to wait for: the shell ends, as on one target
                // (with success when `quit` ended them all).
                let first = endedByQuit.withLock { ended in
                    defer { ended = ended ?? byQuit }
                    return ended == nil
                }
                guard first else { return }
                if !byQuit { editor.print(formatter.error("qmp-shell: no target is connected any more")) }
                editor.close()
            })
        await connections.connectAll()
        defer { connections.stop() }
        let members = connections.members
        if connections.connected.isEmpty && settings.retryPolicy != nil {
            // As on one target, `--reconnect` waits for servers that are not there yet: the prompt
            // comes with the first (Ctrl-C gives up).
            _ = await running.run {
                await connections.waitForAnyConnected()
                return .success
            }
        }
        guard let first = connections.connected.first?.runner else {
            editor.print(formatter.error("qmp-shell: no target could be reached"))
            return .connection
        }
        editor.print(
            "Welcome to the QMP low-level shell!\nConnected to \(connections.connected.count) of \(members.count) "
                + "targets (.targets lists them)\n\n")
        if let schema = first.schema { completer.setArgumentCompleter(SchemaCompleter(store: schema)) }
        let learning = Task {
            if let client = first.link.client, let names = try? await client.execute("query-commands") {
                completer.setCommandNames(names.arrayValue?.compactMap { $0["name"]?.stringValue } ?? [])
            }
            first.schema?.startLoading()
        }
        defer { learning.cancel() }
        let help = FleetHelpCheck()
        while true {
            let inTransaction = connections.connected.first?.runner?.isInTransaction ?? false
            completer.setContinuingTransaction(inTransaction)
            running.forgetInterrupt()
            let input = await editor.readLine {
                inTransaction ? "TRANS> " : "(QEMU \(connections.connected.count)/\(members.count)) "
            }
            if let byQuit = endedByQuit.withLock({ $0 }) { return byQuit ? .success : .connection }
            switch input {
            case .endOfInput:
                return .success
            case .interrupted:
                connections.connected.forEach { $0.runner?.resetTransaction() }
            case .line(let line):
                let text = line.trimmingWhitespace()
                if text == ".quit" { return .success }
                if text == ".targets" {
                    editor.print(members.map { $0.line.escapingControlCharacters + "\n" }.joined())
                    continue
                }
                let live = connections.connected
                // Help is the same everywhere: asked of the first target only, which says where a
                // command it knows is missing.
                if text.hasPrefix(".help"), let asked = live.first {
                    _ = await running.run {
                        await runEverywhere(line, on: [asked])
                        if let note = await help.note(forHelpLine: text, first: asked, others: Array(live.dropFirst()))
                        {
                            editor.print(formatter.notice(note))
                        }
                        return .success
                    }
                    continue
                }
                _ = await running.run {
                    await runEverywhere(line, on: live)
                    return .success
                }
                let missing = members.filter { member in !live.contains { $0 === member } }
                if !missing.isEmpty {
                    editor.print(
                        formatter.notice("qmp-shell: not sent to \(FleetHelpCheck.naming(missing)) (not connected)"))
                }
            }
        }
    }

    /// Runs `line` on every member at once; each member's output is shown in one piece when its
    /// run ends.
    private func runEverywhere(_ line: String, on members: [FleetMember]) async {
        let formatter = settings.formatter
        members.forEach { $0.output.hold() }
        await withTaskGroup(of: Void.self) { group in
            for member in members {
                guard let runner = member.runner else {
                    member.output.flush()
                    continue
                }
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
    }
}
