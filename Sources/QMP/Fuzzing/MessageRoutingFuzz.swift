// libFuzzer target: the client's inbound routing, fed raw bytes as if from the server.
//
// It lives inside the QMP module (it calls internals) and is compiled only when scripts/fuzz.sh
// builds the module with -DQMP_FUZZING and the fuzzer sanitizer; normal builds see nothing here.
//
// Each input is split into lines, as the framer delivers messages, and handed to a fresh client's
// router; then the connection closes. Properties: no crash, no hang, no stack overflow, and every
// listener has ended once the connection has.

#if QMP_FUZZING
    import Logging

    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzMessageRouting(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
        let bytes = UnsafeBufferPointer(start: data, count: size)
        let client = QMPClient.forFuzzing()
        let listener = client.listen(capacity: 16)
        // Messages are lines, as the framer delivers them (it strips \r, spaces and 0xFF at the ends).
        var start = 0
        for index in 0...bytes.count where index == bytes.count || bytes[index] == 0x0A {
            let line = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[start..<index]))
            if !line.isEmpty && !client.receive(message: line) { break }
            start = index + 1
        }
        client.connectionClosed(error: nil, partial: false)
        if !listener.isFinished { fatalError("a listener outlived the connection") }
        _ = listener.drain()
        return 0
    }

    extension QMPClient {
        /// A client that believes it is connected and past the handshake, with nothing on the wire:
        /// for feeding `receive(message:)` directly (the routing fuzz target).
        static func forFuzzing() -> QMPClient {
            var configuration = Configuration()
            configuration.logger = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
            let client = QMPClient(configuration: configuration)
            client.state.withLock { state in
                state.used = true
                state.runstate = .running
                state.phase = .ready
            }
            return client
        }
    }
#endif
