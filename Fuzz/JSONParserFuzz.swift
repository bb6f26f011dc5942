// libFuzzer target: the JSON parser. Built by scripts/fuzz.sh into one module with Sources/QMP/JSON.
//
// Properties: parsing never crashes, hangs or overflows the stack; whatever parses serializes to
// text that parses back to the same value, in both layouts.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let value = try? JSONParser.parse(bytes) else { return 0 }
    for layout in [JSONValue.Layout.compact, .pretty] {
        let text = value.serialized(layout)
        guard let again = try? JSONParser.parse(text) else {
            fatalError("serialized text does not parse: \(text.prefix(200))")
        }
        if again != value { fatalError("round trip changed the value: \(text.prefix(200))") }
    }
    return 0
}
