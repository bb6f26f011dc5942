import Testing

@testable import QMP

@Suite("JSON numbers", .timeLimit(.minutes(1)))
struct JSONNumberTests {
    /// A valid JSON number and what it should read as.
    struct ValidCase: Sendable, CustomTestStringConvertible {
        var text: String
        var isInteger: Bool
        var int: Int?
        var uint64: UInt64?
        var double: Double
        var testDescription: String { text }
    }

    static let validCases: [ValidCase] = [
        ValidCase(text: "0", isInteger: true, int: 0, uint64: 0, double: 0),
        ValidCase(text: "-0", isInteger: true, int: 0, uint64: 0, double: -0.0),
        ValidCase(text: "7", isInteger: true, int: 7, uint64: 7, double: 7),
        ValidCase(text: "-7", isInteger: true, int: -7, uint64: nil, double: -7),
        ValidCase(text: "42", isInteger: true, int: 42, uint64: 42, double: 42),
        ValidCase(text: "1024", isInteger: true, int: 1024, uint64: 1024, double: 1024),
        ValidCase(text: "-65536", isInteger: true, int: -65536, uint64: nil, double: -65536),
        ValidCase(
            text: "4294967296", isInteger: true, int: 4_294_967_296, uint64: 4_294_967_296, double: 4_294_967_296),
        ValidCase(
            text: "9223372036854775807", isInteger: true, int: Int.max, uint64: 9_223_372_036_854_775_807,
            double: 9.223372036854775807e18),
        ValidCase(
            text: "9223372036854775808", isInteger: true, int: nil, uint64: 9_223_372_036_854_775_808,
            double: 9_223_372_036_854_775_808),
        ValidCase(
            text: "18446744073709551615", isInteger: true, int: nil, uint64: UInt64.max,
            double: 1.8446744073709551615e19),
        ValidCase(
            text: "18446744073709551616", isInteger: true, int: nil, uint64: nil, double: 18_446_744_073_709_551_616),
        ValidCase(
            text: "-9223372036854775808", isInteger: true, int: Int.min, uint64: nil, double: -9.223372036854775808e18),
        ValidCase(
            text: "-9223372036854775809", isInteger: true, int: nil, uint64: nil, double: -9.223372036854775809e18),
        ValidCase(text: "1e308", isInteger: false, int: nil, uint64: nil, double: 1e308),
        ValidCase(text: "-1e308", isInteger: false, int: nil, uint64: nil, double: -1e308),
        ValidCase(text: "1e309", isInteger: false, int: nil, uint64: nil, double: .infinity),
        ValidCase(text: "-0.0", isInteger: false, int: nil, uint64: nil, double: -0.0),
        ValidCase(text: "0.0", isInteger: false, int: nil, uint64: nil, double: 0),
        ValidCase(text: "0.5", isInteger: false, int: nil, uint64: nil, double: 0.5),
        ValidCase(text: "-0.5", isInteger: false, int: nil, uint64: nil, double: -0.5),
        ValidCase(text: "3.14159", isInteger: false, int: nil, uint64: nil, double: 3.14159),
        ValidCase(text: "1E+2", isInteger: false, int: nil, uint64: nil, double: 100),
        ValidCase(text: "1e+2", isInteger: false, int: nil, uint64: nil, double: 100),
        ValidCase(text: "1E2", isInteger: false, int: nil, uint64: nil, double: 100),
        ValidCase(text: "1e-2", isInteger: false, int: nil, uint64: nil, double: 0.01),
        ValidCase(text: "2.5E-3", isInteger: false, int: nil, uint64: nil, double: 0.0025),
        ValidCase(text: "-1.5e+10", isInteger: false, int: nil, uint64: nil, double: -1.5e10),
        ValidCase(text: "0e0", isInteger: false, int: nil, uint64: nil, double: 0),
        ValidCase(text: "1e007", isInteger: false, int: nil, uint64: nil, double: 1e7),
        ValidCase(text: "5e-324", isInteger: false, int: nil, uint64: nil, double: .leastNonzeroMagnitude),
        ValidCase(text: "10.000", isInteger: false, int: nil, uint64: nil, double: 10),
    ]

    @Test("valid numbers parse with their exact text", arguments: validCases)
    func validNumber(_ valid: ValidCase) throws {
        let value = try JSONParser.parse(valid.text)
        let number = try #require(value.numberValue)
        #expect(number.text == valid.text)
        #expect(value.serialized() == valid.text)
        #expect(value.serialized(.pretty) == valid.text)
        #expect(number.isInteger == valid.isInteger)
        #expect(number.intValue == valid.int)
        #expect(value.intValue == valid.int)
        #expect(number.uint64Value == valid.uint64)
        #expect(number.doubleValue == valid.double)
        #expect(number.doubleValue.sign == valid.double.sign)
        #expect(JSONNumber(text: valid.text) == number)
    }

    @Test("valid numbers keep their text inside containers and next to every delimiter", arguments: validCases)
    func validNumberInContainers(_ valid: ValidCase) throws {
        let text = valid.text
        for input in ["[\(text)]", "[\(text),\(text)]", #"{"n":\#(text)}"#, #"{"n":\#(text),"m":[\#(text)]}"#] {
            #expect(try jsonCompact(input) == input)
        }
        #expect(try jsonCompact("[ \(text) ,\t\(text)\n]") == "[\(text),\(text)]")
        #expect(try jsonCompact(" \(text)\r\n") == text)
    }

    @Test("integers from 0 to 1000 and their negatives read back exactly")
    func integerSweep() throws {
        for integer in -1000...1000 {
            let value = try JSONParser.parse(String(integer))
            #expect(value.intValue == integer)
            #expect(value.serialized() == String(integer))
        }
        for shift in 0..<64 {
            let unsigned = UInt64(1) << shift
            let text = String(unsigned)
            #expect(try JSONParser.parse(text).numberValue?.uint64Value == unsigned)
            #expect(try JSONParser.parse("-" + text).numberValue?.doubleValue == -Double(unsigned))
        }
    }

    /// An invalid number, where the parser must point, and a word its reason must contain.
    static let invalidCases: [(input: String, offset: Int, reason: String)] = [
        ("01", 1, "leading zero"),
        ("00", 1, "leading zero"),
        ("-01", 2, "leading zero"),
        ("[01]", 2, "leading zero"),
        ("1.", 2, "digit"),
        ("1.e5", 2, "digit"),
        ("[1.]", 3, "digit"),
        ("-1.x", 3, "digit"),
        (".5", 0, "'.'"),
        ("[.5]", 1, "'.'"),
        ("-", 1, "digit"),
        ("-a", 1, "digit"),
        ("--1", 1, "digit"),
        ("-.5", 1, "digit"),
        (#"{"a":-}"#, 6, "digit"),
        ("1e", 2, "exponent"),
        ("1E", 2, "exponent"),
        ("1e+", 3, "exponent"),
        ("1e-", 3, "exponent"),
        ("1e+-1", 3, "exponent"),
        ("1.5e", 4, "exponent"),
        ("[1e]", 3, "exponent"),
        ("+1", 0, "'+'"),
        ("[+1]", 1, "'+'"),
        ("1.5.2", 3, "after"),
        ("0x10", 1, "after"),
        ("1 2", 2, "after"),
        ("[1 2]", 3, "','"),
        ("Infinity", 0, "'I'"),
        ("-Infinity", 1, "digit"),
        ("NaN", 0, "'N'"),
    ]

    @Test("invalid numbers are rejected at the byte that breaks them", arguments: invalidCases)
    func invalidNumber(input: String, offset: Int, reason: String) throws {
        let error = try #require(jsonParseError(input), "\(input) should not parse")
        #expect(error.offset == offset, "\(input): \(error)")
        #expect(error.reason.contains(reason), "\(input): \(error)")
        #expect(error.description.contains("byte \(offset)"))
    }

    @Test("JSONNumber(text:) accepts exactly JSON number text", arguments: validCases)
    func numberTextValid(_ valid: ValidCase) {
        #expect(JSONNumber(text: valid.text)?.text == valid.text)
    }

    @Test(
        "JSONNumber(text:) refuses anything else",
        arguments: [
            "", " ", "01", "1.", ".5", "-", "1e", "+1", " 1", "1 ", "1,", "1e+", "0x1", "NaN", "inf", "1_000", "١",
        ])
    func numberTextInvalid(text: String) {
        #expect(JSONNumber(text: text) == nil)
    }

    @Test(
        "numbers made from Swift integers",
        arguments: [
            (JSONNumber(0), "0"),
            (JSONNumber(-5), "-5"),
            (JSONNumber(Int.max), "9223372036854775807"),
            (JSONNumber(Int.min), "-9223372036854775808"),
            (JSONNumber(Int64.min), "-9223372036854775808"),
            (JSONNumber(UInt64.max), "18446744073709551615"),
            (JSONNumber(UInt64(0)), "0"),
        ])
    func fromIntegers(number: JSONNumber, text: String) throws {
        #expect(number.text == text)
        #expect(number.isInteger)
        #expect(try JSONParser.parse(text) == .number(number))
    }

    @Test(
        "numbers made from doubles are valid JSON and read back as the same double",
        arguments: [
            0.5, -0.0, 0.0, 1e308, -1e308, 1.0, -3.0, 0.1, 1e16, 1e15, 123456789.125, 1e-7, .leastNonzeroMagnitude,
            .leastNormalMagnitude, .greatestFiniteMagnitude, 9_007_199_254_740_992, 2.5e-300, 1.7976931348623157e308,
        ] as [Double])
    func fromDoubles(double: Double) throws {
        let number = JSONNumber(double)
        #expect(JSONNumber(text: number.text) != nil, "\(number.text) is not JSON")
        #expect(number.doubleValue == double)
        #expect(number.doubleValue.sign == double.sign)
        let value = try JSONParser.parse(JSONValue.number(number).serialized())
        #expect(value.numberValue?.doubleValue == double)
    }

    @Test(
        "numbers made from doubles have the expected text",
        arguments: [
            (0.5, "0.5"), (-0.0, "-0.0"), (0.0, "0"), (2.0, "2"), (-3.0, "-3"), (1e15, "1000000000000000"),
            (1e308, "1e+308"),
        ] as [(Double, String)])
    func doubleText(double: Double, text: String) {
        #expect(JSONNumber(double).text == text)
    }
}
