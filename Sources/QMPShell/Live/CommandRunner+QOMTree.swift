import QMP
import QMPLineSyntax

extension CommandRunner {
    /// `.qom-tree [PATH]`: the QOM tree below PATH (`/machine` by default), indented when results
    /// go to a terminal, one JSON object per object otherwise.
    func qomTree(_ text: String) async throws(LineOutcomeError) -> LineOutcome {
        let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard words.count <= 1 else { return .failed("usage: \(Directive.qomTree.usage)") }
        let root = words.first ?? "/machine"
        let client = try serverClient(for: ".qom-tree")
        // QEMU 10.1 reads a level's properties and values in one command; without the schema,
        // asking is how to know.
        let listGet = await schema?.schema().map { $0.commands["qom-list-get"] != nil }
        let tree: QOMTree
        do throws(QMPError) {
            do throws(QMPError) {
                tree = try await QOMTree.read(
                    below: root, with: client, useListGet: listGet ?? true, timeout: configuration.commandTimeout)
            } catch .commandFailed(let errorClass, _) where errorClass == "CommandNotFound" && listGet == nil {
                tree = try await QOMTree.read(
                    below: root, with: client, useListGet: false, timeout: configuration.commandTimeout)
            }
        } catch .commandFailed(_, let description) {
            return .failed(".qom-tree \(root): \(description)")
        } catch {
            return Self.outcome(of: error)
        }
        printer.printResult(configuration.resultsOnTerminal ? tree.indentedText() : tree.jsonLines())
        return .success
    }
}
