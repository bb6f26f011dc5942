import Dispatch
import QMP
import QMPShell
import ShellSystem
import Synchronization

/// Candidates for `--domain` in the generated shell completions: the running domains of the
/// connection the words so far name (`--connect URI`), or none when libvirt cannot say.
enum DomainCompletion {
    static func runningDomains(words: [String]) -> [String] {
        var given: String?
        if let index = words.firstIndex(of: "--connect"), index + 1 < words.count { given = words[index + 1] }
        let uri = LibvirtTarget.connectionURI(given) { environmentValue($0) }
        let names = Names()
        let done = DispatchSemaphore(value: 0)
        // Argument parsing is synchronous; libvirt's calls run on a queue of their own.
        Task {
            names.set((try? await LibvirtTarget.runningDomains(uri: uri)) ?? [])
            done.signal()
        }
        return done.wait(timeout: .now() + 5) == .success ? names.get() : []
    }

    private final class Names: Sendable {
        private let names = Mutex<[String]>([])
        func set(_ new: [String]) { names.withLock { $0 = new } }
        func get() -> [String] { names.withLock { $0 } }
    }
}
