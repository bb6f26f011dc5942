import Testing

@testable import QMPShell

/// The policies the run modes follow, decided from the options alone.
@Suite(.timeLimit(.minutes(1))) struct RunModeTests {
    private func options(_ change: (inout ShellOptions) -> Void) -> ShellOptions {
        var options = ShellOptions()
        change(&options)
        return options
    }

    @Test func theModeFollowsTheOptionsAndTheTerminal() {
        #expect(RunMode(ShellOptions(), standardInputIsTerminal: true) == .interactive)
        // Lines piped on standard input are a script.
        #expect(RunMode(ShellOptions(), standardInputIsTerminal: false) == .script)
        #expect(RunMode(options { $0.commands = ["stop"] }, standardInputIsTerminal: true) == .script)
        #expect(RunMode(options { $0.script = "x.qmp" }, standardInputIsTerminal: true) == .script)
        #expect(RunMode(options { $0.watch = true }, standardInputIsTerminal: true) == .watch)
        #expect(
            RunMode(
                options {
                    $0.dryRun = true; $0.commands = ["stop"]
                }, standardInputIsTerminal: true) == .dryRun)
        #expect(RunMode(options { $0.listDomains = true }, standardInputIsTerminal: true) == .listDomains)
    }

    @Test func watchOnASocketHoldsTheServerBackAndEverythingElseDropsTheOldest() {
        let configuration = ShellConfiguration()
        let watch = EventQueuePolicy(mode: .watch, throughLibvirt: false, configuration: configuration)
        #expect(watch.overflow == .pauseReading)
        #expect(watch.capacity == 2_000)
        // libvirt cannot hold QEMU back.
        let libvirt = EventQueuePolicy(mode: .watch, throughLibvirt: true, configuration: configuration)
        #expect(libvirt.overflow == .dropOldest)
        #expect(libvirt.capacity == configuration.eventQueueCapacity)
        #expect(
            EventQueuePolicy(mode: .interactive, throughLibvirt: false, configuration: configuration).overflow
                == .dropOldest)
    }

    @Test func colourHonoursNoColorAndDumbTerminals() {
        func color(_ choice: ShellOptions.ColorChoice, terminal: Bool, _ environment: [String: String]) -> Bool {
            ShellConfiguration(options { $0.color = choice }, colorTerminal: terminal) { environment[$0] }.color
        }
        #expect(color(.auto, terminal: true, [:]))
        #expect(!color(.auto, terminal: false, [:]))
        #expect(!color(.auto, terminal: true, ["NO_COLOR": "1"]))
        #expect(!color(.auto, terminal: true, ["TERM": "dumb"]))
        #expect(color(.always, terminal: false, ["NO_COLOR": "1"]))
        #expect(!color(.never, terminal: true, [:]))
    }

    @Test func historyDefaultsToTheHomeFolderUnlessTurnedOff() {
        let environment = ["HOME": "/home/ops"]
        #expect(
            ShellConfiguration(ShellOptions(), colorTerminal: false) { environment[$0] }.historyFile
                == "/home/ops/.qmp-shell_history")
        #expect(
            ShellConfiguration(options { $0.history = "/tmp/h" }, colorTerminal: false) { environment[$0] }.historyFile
                == "/tmp/h")
        #expect(
            ShellConfiguration(options { $0.noHistory = true }, colorTerminal: false) { environment[$0] }.historyFile
                == nil)
        #expect(ShellConfiguration(ShellOptions(), colorTerminal: false) { _ in nil }.historyFile == nil)
    }

    @Test func aDomainsQuitIsAnnouncedAndTheCommandTimeoutRoundsUp() {
        let configuration = ShellConfiguration(
            options {
                $0.domain = "web-1"
                $0.commandTimeout = 0.0005
            }, colorTerminal: false
        ) { _ in nil }
        #expect(configuration.quitNotice == "qmp-shell: quit ends QEMU: libvirt sees domain 'web-1' stop")
        #expect(configuration.commandTimeout == .milliseconds(1))
    }
}
