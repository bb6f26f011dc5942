// libFuzzer target: the `key=value` line parser (and the Python-literal parser behind it).
// Built by scripts/fuzz.sh against a QMP module made of Sources/QMP/JSON.
//
// Properties: any line either parses or throws a LineParseError whose column lies within the
// line (plus one, for "at the end"); a parsed message serializes to JSON that parses back.

import QMP

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLineParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    var parser = LineParser()
    // Several lines, so transactions spanning lines are exercised too.
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        do {
            for parsed in try parser.parse(String(line)) {
                if case .message(let message) = parsed {
                    let json = message.serialized()
                    guard (try? JSONParser.parse(json)) != nil else { fatalError("unparseable output \(json.prefix(200))") }
                }
            }
        } catch {
            if error.column < 1 || error.column > line.count + 1 {
                fatalError("column \(error.column) outside a line of \(line.count) characters: \(error)")
            }
        }
    }
    return 0
}
