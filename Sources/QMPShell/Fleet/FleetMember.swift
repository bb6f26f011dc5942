import QMP
import Synchronization

/// One target of the interactive fleet shell: its output, and its connection and runner once
/// connected. Each change of its state is signalled on `changes`.
final class FleetMember: Sendable {
    enum State: Sendable {
        case connecting
        case connected(version: String)
        case unreachable(String)
        case lost(String)
        /// Lost or not reached yet, and being tried again (`--reconnect`).
        case reconnecting(String)
    }

    let target: FleetTarget
    let output: TargetOutput
    private let state = Mutex<(state: State, runner: CommandRunner?)>((.connecting, nil))
    private let changes: ChangeSignal

    init(target: FleetTarget, output: TargetOutput, changes: ChangeSignal) {
        self.target = target
        self.output = output
        self.changes = changes
    }

    var current: State { state.withLock { $0.state } }

    /// The runner while connected.
    var runner: CommandRunner? {
        state.withLock { state in
            if case .connected = state.state { return state.runner }
            return nil
        }
    }

    func connected(_ runner: CommandRunner, version: String) {
        state.withLock { $0 = (.connected(version: version), runner) }
        changes.signal()
    }

    func failed(_ state: State) {
        self.state.withLock { $0.state = state }
        changes.signal()
    }

    /// Whether it is connected now.
    var isConnected: Bool { runner != nil }

    /// Whether it is gone for good: unreachable or lost, and not being tried again.
    var isGone: Bool {
        switch current {
        case .unreachable, .lost: return true
        case .connecting, .connected, .reconnecting: return false
        }
    }

    /// How `.targets` shows it.
    var line: String {
        switch current {
        case .connecting: return "\(target.name): connecting"
        case .connected(let version): return "\(target.name): connected, QEMU \(version)"
        case .unreachable(let reason): return "\(target.name): unreachable: \(reason)"
        case .lost(let reason): return "\(target.name): lost: \(reason)"
        case .reconnecting(let reason): return "\(target.name): not connected, retrying: \(reason)"
        }
    }
}
