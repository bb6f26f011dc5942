import Testing

@testable import QMPLineSyntax

/// The byte-level path for lines of plain words gives exactly the tokens of the character scanner,
/// and leaves every other line to it.
@Suite(.timeLimit(.minutes(1))) struct PlainWordsTokenizerTests {
    @Test(arguments: [
        "query-status",
        "   query-status   ",
        "query-block\t",
        "\tstop \u{0B} cont\u{0C}x",
        "transaction(",
        "transaction( block-dirty-bitmap-add )",
        ")",
        "x-vendor.command a.b.c",
        "a  b\t\tc",
        "",
        "   ",
    ])
    func plainLinesGiveTheScannersTokens(line: String) throws {
        let plain = try #require(ArgumentTokenizer.plainWords(line, firstColumn: 3))
        #expect(plain == (try ArgumentTokenizer.scannedTokens(line, firstColumn: 3)))
        #expect((try ArgumentTokenizer.tokenize(line, firstColumn: 3)) == plain)
    }

    @Test(arguments: [
        "stop # pause",
        "cont\r",
        #""query-status""#,
        "'query-status'",
        "device_add driver=virtio-rng-pci",
        "échec",
        "query-status\r\n",
    ])
    func otherLinesGoToTheScanner(line: String) {
        #expect(ArgumentTokenizer.plainWords(line, firstColumn: 1) == nil)
    }

    @Test func columnsCountFromTheGivenFirstColumn() throws {
        let tokens = try #require(ArgumentTokenizer.plainWords("  stop  cont", firstColumn: 5))
        #expect(tokens.map(\.column) == [7, 13])
        #expect(tokens.map(\.raw) == ["stop", "cont"])
    }
}
