import QMPLineSyntax
import Testing

@testable import QMPShell

/// Tab without the schema: command and directive names, HMP's names from its help text, the
/// words of a transaction, and which words go to the schema's argument completer.
@Suite(.timeLimit(.minutes(1))) struct CompleterTests {
    /// Records what it is asked and offers one candidate, so a test sees the dispatch.
    private final class RecordingArguments: ArgumentCompleting, @unchecked Sendable {
        var asked: [String] = []
        func complete(command: String, word: String, lineBeforeCursor: String) -> CompletionResult {
            asked.append(command)
            return CompletionResult(replacementLength: word.count, candidates: ["\(command)-argument="])
        }
    }

    @Test func theFirstWordCompletesToCommandsAndTransaction() {
        let completer = Completer(hmp: false)
        completer.setCommandNames(["query-status", "query-version", "stop", "query-status"])
        #expect(completer.complete("que").candidates == ["query-status ", "query-version "])
        #expect(completer.complete("tr").candidates == ["transaction( "])
        #expect(completer.complete("que").replacementLength == 3)
    }

    @Test func aDotCompletesToDirectives() {
        let completer = Completer(hmp: false)
        #expect(completer.complete(".he").candidates == [".help "])
        #expect(completer.complete(".wa").candidates == [".wait "])
    }

    @Test func argumentsGoToTheArgumentCompleterButDirectiveArgumentsDoNot() {
        let completer = Completer(hmp: false)
        let arguments = RecordingArguments()
        completer.setArgumentCompleter(arguments)
        #expect(completer.complete("blockdev-add dri").candidates == ["blockdev-add-argument="])
        #expect(completer.complete(".wait ST").candidates == [".wait-argument="])
        #expect(completer.complete(".history x") == .none)
        #expect(arguments.asked == ["blockdev-add", ".wait"])
    }

    @Test func aTransactionsWordsAreActionsThenTheirArguments() {
        let completer = Completer(hmp: false)
        completer.setCommandNames(["block-dirty-bitmap-add", "stop"])
        // No argument completer: the actions are the commands, and `)` closes.
        #expect(completer.complete("transaction( bl").candidates == ["block-dirty-bitmap-add "])
        completer.setContinuingTransaction(true)
        #expect(completer.complete(")").candidates == [") "])
    }

    @Test func hmpNamesComeFromItsHelpTextLongestSpellingFirst() {
        let help = "cont|c  -- resume emulation\r\ninfo [subcommand] -- show info\r\n\tcontinued\r\nq|quit  -- quit\r\n"
        #expect(Completer.hmpNames(fromHelp: help) == ["cont", "info", "quit"])
        let completer = Completer(hmp: true)
        completer.setCommandNames(["cont", "info", "quit"])
        completer.setInfoTopics(Completer.hmpNames(fromHelp: "info status  -- show status\r\n", prefix: "info"))
        #expect(completer.complete("info st").candidates == ["status "])
        #expect(completer.complete("co").candidates == ["cont "])
        // HMP has no transactions.
        #expect(completer.complete("tr").candidates == [])
    }
}
