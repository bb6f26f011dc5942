import QMP
import Testing
@testable import QMPLineSyntax

@Suite(.timeLimit(.minutes(1))) struct ValueSyntaxTests {
    @Test(arguments: [
        ("12", "12"), ("-12", "-12"), ("+12", "12"), ("012", "12"), ("0", "0"), ("0x1f", "31"),
        ("1.5", "1.5"), (".5", "0.5"), ("5.", "5.0"), ("1e9", "1e9"), ("1E+9", "1E+9"),
    ])
    func number(text: String, expected: String) {
        #expect(ValueSyntax.number(from: text)?.text == expected)
    }

    @Test(arguments: ["", "+", "-", ".", "e5", "1e", "1.2.3", "0x", "1_0", " 1", "1 ", "١٢"])
    func notANumber(text: String) {
        #expect(ValueSyntax.number(from: text) == nil)
    }

    @Test(arguments: [
        ("7", false, "7"), ("7", true, #""7""#), ("", false, #""""#), ("TRUE", false, "true"),
        ("null", false, "null"), ("null", true, #""null""#), ("[1,'a']", false, #"[1,"a"]"#),
        ("[1,'a']", true, #""[1,'a']""#), ("{\"a\": 1}", false, #"{"a":1}"#),
    ])
    func value(text: String, wasQuoted: Bool, expected: String) throws {
        let token = ArgumentToken(keyPath: ["k"], text: text, wasQuoted: wasQuoted)
        #expect(try ValueSyntax().value(of: token, in: .command("x")).serialized() == expected)
    }
}
