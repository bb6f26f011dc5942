import Glibc
import ArgumentParser
import QMPShell

@main
enum Main {
    static func main() async {
        // Writing to a closed socket or pipe must be an error, not a dead process.
        signal(SIGPIPE, SIG_IGN)
        // Ctrl-\ quits a script run as it quits any program; the Swift runtime would take it for a
        // crash and print a report. The interactive shell treats it as Ctrl-C (see LineEditor).
        signal(SIGQUIT, SIG_DFL)
        ConnectionExecutor.useOneEventLoop()
        let command: QMPShellCommand
        do {
            command = try QMPShellCommand.parse(Array(CommandLine.arguments.dropFirst()))
        } catch {
            let code = QMPShellCommand.exitCode(for: error)
            let message = QMPShellCommand.fullMessage(for: error)
            if code == .success {
                print(message)
                exit(ExitStatus.success.rawValue)
            }
            StandardStreams().diagnostic(message + "\n")
            exit(ExitStatus.usage.rawValue)
        }
        exit(await ShellRun(options: command.options).run().rawValue)
    }
}
