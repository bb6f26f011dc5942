import Testing

@testable import QMP

@Suite("JSON strings", .timeLimit(.minutes(1)))
struct JSONStringTests {
    // MARK: Reading escapes

    @Test(
        "escapes decode to the characters they stand for",
        arguments: [
            (#""\"""#, "\""),
            (#""\\""#, "\\"),
            (#""\/""#, "/"),
            (#""\b""#, "\u{08}"),
            (#""\f""#, "\u{0C}"),
            (#""\n""#, "\n"),
            (#""\r""#, "\r"),
            (#""\t""#, "\t"),
            (#""\u00e9""#, "é"),
            (#""\u00E9""#, "é"),
            (#""\u0041\u0062""#, "Ab"),
            (#""\u0000""#, "\u{0}"),
            (#""\u001f""#, "\u{1F}"),
            (#""\u007f""#, "\u{7F}"),
            (#""\u20ac""#, "€"),
            (#""\uFFFF""#, "\u{FFFF}"),
            (#""\uE000""#, "\u{E000}"),
            (#""\ud83d\ude00""#, "😀"),
            (#""\uD83D\uDE00""#, "😀"),
            (#""\uD800\uDC00""#, "\u{10000}"),
            (#""\uDBFF\uDFFF""#, "\u{10FFFF}"),
            (#""a\ud83d\ude00b\ud83d\ude00""#, "a😀b😀"),
            (#""\\u00e9""#, "\\u00e9"),
            (#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{8}\u{C}\n\r\t"),
            (#""before \n after""#, "before \n after"),
            (#""é\n😀""#, "é\n😀"),  // raw non-ASCII before and after an escape
            (#""é""#, "é"),
            (#""😀""#, "😀"),
            (#""日本語""#, "日本語"),
            (#""\u00e9é""#, "éé"),
            ("\"\u{7F}\"", "\u{7F}"),  // DEL is not a control character for JSON
            (#""""#, ""),
            (#""/""#, "/"),
        ])
    func decode(json: String, expected: String) throws {
        #expect(try JSONParser.parse(json) == .string(expected))
        // The same text works as a member name.
        #expect(try JSONParser.parse("{\(json):1}").objectValue?.keys == [expected])
    }

    // MARK: Writing strings

    @Test(
        "strings are written with the escapes JSON requires, and DEL and C1 escaped",
        arguments: [
            ("\"", #""\"""#),
            ("\\", #""\\""#),
            ("/", #""/""#),
            ("a/b</script>", #""a/b</script>""#),
            ("\u{08}", #""\b""#),
            ("\u{0C}", #""\f""#),
            ("\n", #""\n""#),
            ("\r", #""\r""#),
            ("\t", #""\t""#),
            ("\r\n", #""\r\n""#),
            ("\u{0}", #""\u0000""#),
            ("\u{1}", #""\u0001""#),
            ("\u{0B}", #""\u000b""#),
            ("\u{1B}", #""\u001b""#),
            ("\u{1F}", #""\u001f""#),
            ("\u{7F}", #""\u007f""#),
            (" ", #"" ""#),
            ("é", #""é""#),
            ("😀", #""😀""#),
            ("\u{2028}\u{2029}", "\"\u{2028}\u{2029}\""),
            ("日本語 and ASCII", #""日本語 and ASCII""#),
            ("say \"hi\"\\n", #""say \"hi\"\\n""#),
            ("", #""""#),
        ])
    func encode(string: String, expected: String) throws {
        let value = JSONValue.string(string)
        #expect(value.serialized() == expected)
        #expect(value.serialized(.pretty) == expected)
        // The same escaping applies to member names.
        let object = JSONValue.object(JSONObject([JSONObject.Member(key: string, value: nil)]))
        #expect(object.serialized() == "{\(expected):null}")
        #expect(try JSONParser.parse(expected) == value)
    }

    @Test("non-ASCII is written as raw UTF-8 bytes")
    func rawUTF8Output() {
        var bytes: [UInt8] = []
        JSONValue.string("é😀").write(to: &bytes)
        #expect(bytes == [0x22, 0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80, 0x22])
    }

    @Test("every control character is escaped, and comes back", arguments: 0..<0x20)
    func controlCharacterRoundTrip(code: Int) throws {
        let string = "a" + String(Unicode.Scalar(UInt8(code))) + "b"
        let text = JSONValue.string(string).serialized()
        #expect(!text.utf8.contains { $0 < 0x20 })
        #expect(text.hasPrefix("\"a\\"))
        #expect(try JSONParser.parse(text) == .string(string))
        let short: [Int: String] = [0x08: "b", 0x09: "t", 0x0A: "n", 0x0C: "f", 0x0D: "r"]
        let hex = String(code, radix: 16)
        let escape = short[code] ?? "u00" + (hex.count == 1 ? "0" + hex : hex)
        #expect(text == "\"a\\\(escape)b\"")
    }

    /// Some terminals obey DEL and the C1 controls (U+009B is CSI): escaped too, though JSON does
    /// not require it; the rest of the Latin-1 range stays raw UTF-8.
    @Test("DEL and every C1 control are escaped, and come back", arguments: 0x7F..<0xA1)
    func c1ControlRoundTrip(code: Int) throws {
        let string = "a" + String(Unicode.Scalar(UInt8(code))) + "é"
        let text = JSONValue.string(string).serialized()
        #expect(try JSONParser.parse(text) == .string(string))
        if code == 0xA0 {
            #expect(text == "\"a\u{A0}é\"")
        } else {
            #expect(text == "\"a\\u00\(String(code, radix: 16))é\"")
        }
    }

    @Test("every \\u00XX escape decodes to that scalar", arguments: 0..<0x100)
    func latin1Escapes(code: Int) throws {
        let hex = String(code, radix: 16, uppercase: code.isMultiple(of: 2))
        let escape = "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        let expected = String(Unicode.Scalar(UInt8(code)))
        #expect(try JSONParser.parse("\"\(escape)\"") == .string(expected))
    }

    @Test("long strings with and without escapes")
    func longStrings() throws {
        let plain = String(repeating: "abcdefgh", count: 10_000)
        #expect(try JSONParser.parse("\"\(plain)\"") == .string(plain))
        let mixed = String(repeating: "é\n\"😀\\/\t", count: 5_000)
        let text = JSONValue.string(mixed).serialized()
        #expect(try JSONParser.parse(text) == .string(mixed))
        // Many strings with escapes in one document share the scratch buffer correctly.
        let array: JSONValue = .array((0..<500).map { .string("line \($0)\n\"quoted\"") })
        #expect(try JSONParser.parse(array.serialized()) == array)
        #expect(try JSONParser.parse(array.serialized(.pretty)) == array)
    }

    // MARK: Rejected strings

    @Test(
        "unpaired surrogates are rejected at their escape",
        arguments: [
            (#""\ud83d""#, 1),
            (#""\ude00""#, 1),
            (#""\uDC00""#, 1),
            (#""\ud83dx""#, 1),
            (#""\ud83d\n""#, 1),
            (#""\ud83d\u0041""#, 1),
            (#""\ud83d\ud83d""#, 1),
            (#""\ude00\ud83d""#, 1),
            (#""ab\udc00""#, 3),
            (#""é\ud800""#, 3),
            (#""\n\udfff""#, 3),
            (#"{"\ud800":1}"#, 2),
            (#"["ok","\udbff"]"#, 7),
        ])
    func unpairedSurrogate(json: String, offset: Int) throws {
        let error = try #require(jsonParseError(json), "\(json) should not parse")
        #expect(error.offset == offset, "\(json): \(error)")
        #expect(error.reason.contains("surrogate"), "\(json): \(error)")
    }

    @Test(
        "bad escapes are rejected where they are",
        arguments: [
            (#""\x""#, 1, "escape"),
            (#""\a""#, 1, "escape"),
            (#""\'""#, 1, "escape"),
            (#""\U0041""#, 1, "escape"),
            (#""\0""#, 1, "escape"),
            (#""ab\ c""#, 3, "escape"),
            (#""\u12""#, 5, "hex"),
            (#""\u12g4""#, 5, "hex"),
            (#""\uzzzz""#, 3, "hex"),
            (#""\u""#, 3, "hex"),
            (#""\ud83d\u12""#, 11, "hex"),
            (#""\ud83d\uXXXX""#, 9, "hex"),
        ] as [(String, Int, String)])
    func badEscape(json: String, offset: Int, reason: String) throws {
        let error = try #require(jsonParseError(json), "\(json) should not parse")
        #expect(error.offset == offset, "\(json): \(error)")
        #expect(error.reason.contains(reason), "\(json): \(error)")
    }

    @Test(
        "unterminated strings are rejected at their opening quote",
        arguments: [
            (#"""#, 0),
            (#""abc"#, 0),
            (#""é"#, 0),
            (#""abc\"#, 0),
            (#""a\n"#, 0),
            (#""a\""#, 0),
            (#"["a"#, 1),
            (#"{"a"#, 1),
            (#"{"a":"b"#, 5),
        ])
    func unterminated(json: String, offset: Int) throws {
        let error = try #require(jsonParseError(json), "\(json) should not parse")
        #expect(error.offset == offset, "\(json): \(error)")
        #expect(error.reason.contains("unterminated"), "\(json): \(error)")
    }

    /// Builds input bytes from text pieces and raw bytes.
    static func bytes(_ pieces: Any...) -> [UInt8] {
        pieces.flatMap { piece -> [UInt8] in
            if let text = piece as? String { return Array(text.utf8) }
            if let byte = piece as? Int { return [UInt8(byte)] }
            fatalError("unexpected piece \(piece)")
        }
    }

    static let invalidUTF8Cases: [(name: String, bytes: [UInt8], offset: Int)] = [
        ("0xFF", bytes("\"", 0xFF, "\""), 1),
        ("0xFE after ASCII", bytes("\"abc", 0xFE, "\""), 4),
        ("lone continuation byte", bytes("\"ab", 0x80, "\""), 3),
        ("truncated two-byte sequence", bytes("\"", 0xC3, "\""), 1),
        ("two-byte lead then ASCII", bytes("\"", 0xC3, "(\""), 1),
        ("truncated three-byte sequence", bytes("\"x", 0xE2, 0x82, "\""), 2),
        ("truncated four-byte sequence", bytes("\"", 0xF0, 0x9F, 0x98, "\""), 1),
        ("overlong encoding", bytes("\"", 0xC0, 0x80, "\""), 1),
        ("overlong slash", bytes("\"", 0xC0, 0xAF, "\""), 1),
        ("encoded surrogate", bytes("\"", 0xED, 0xA0, 0x80, "\""), 1),
        ("beyond U+10FFFF", bytes("\"", 0xF4, 0x90, 0x80, 0x80, "\""), 1),
        ("0xF5 lead", bytes("\"", 0xF5, 0x80, 0x80, 0x80, "\""), 1),
        ("bad byte after valid UTF-8", bytes("\"é😀", 0xFF, "\""), 7),
        ("valid UTF-8 after the bad byte", bytes("\"", 0x80, "é\""), 1),
        ("bad byte after an escape", bytes("\"\\n", 0xFF, "\""), 3),
        ("bad byte before an escape", bytes("\"a", 0xFF, "\\n\""), 2),
        ("bad byte between escapes", bytes("\"é\\na", 0xE2, 0x82, "\\t\""), 6),
        ("bad byte after a \\u escape", bytes("\"\\u00e9", 0xC3, "\""), 7),
        ("in a member name", bytes("{\"", 0xFF, "\":1}"), 2),
        ("in a member name with escapes", bytes("{\"\\t", 0xFF, "\":1}"), 4),
        ("in the second array element", bytes("[\"a\",\"", 0x80, "\"]"), 6),
        ("in a nested value", bytes("{\"a\":[\"ok\",{\"b\":\"x", 0xC0, "\"}]}"), 18),
    ]

    @Test("invalid UTF-8 in a string is rejected at the bad byte", arguments: invalidUTF8Cases)
    func invalidUTF8(name: String, bytes: [UInt8], offset: Int) throws {
        let error = try #require(jsonParseError(bytes), "\(name) should not parse")
        #expect(error.offset == offset, "\(name): \(error)")
        #expect(error.reason.contains("UTF-8"), "\(name): \(error)")
    }

    @Test("invalid UTF-8 outside a string is rejected as an unexpected byte")
    func invalidUTF8OutsideString() throws {
        let error = try #require(jsonParseError([0xFF]))
        #expect(error.offset == 0)
        #expect(error.reason.contains("0xFF"))
        let inArray = try #require(jsonParseError(Self.bytes("[1,", 0xC3, 0xA9, "]")))
        #expect(inArray.offset == 3)
    }

    @Test(
        "raw control characters in strings are rejected where they are",
        arguments: [
            ("\"a\nb\"", 2),
            ("\"\t\"", 1),
            ("\"\r\"", 1),
            ("\"\u{0}\"", 1),
            ("\"\u{1}\"", 1),
            ("\"abc\u{1F}\"", 4),
            ("\"é\u{8}\"", 3),
            ("\"a\\nb\u{1}\"", 5),  // after an escape
            ("\"\\u00e9\n\"", 7),
            ("{\"a\nb\":1}", 3),  // in a member name
            ("[\"ok\",\"\t\"]", 7),
        ])
    func rawControlCharacter(json: String, offset: Int) throws {
        let error = try #require(jsonParseError(json), "\(json.debugDescription) should not parse")
        #expect(error.offset == offset, "\(json.debugDescription): \(error)")
        #expect(error.reason.contains("control character"), "\(json.debugDescription): \(error)")
    }
}
