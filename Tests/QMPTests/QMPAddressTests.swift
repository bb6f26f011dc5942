import QMP
import Testing

/// Addresses as users write them, and the error for one that does not parse: an argument error,
/// not a state of the client.
@Suite(.timeLimit(.minutes(1))) struct QMPAddressTests {
    @Test(arguments: [
        ("/run/vm.sock", QMPAddress.unix(path: "/run/vm.sock")),
        ("vm.sock", .unix(path: "vm.sock")),
        ("localhost:4444", .tcp(host: "localhost", port: 4444)),
        ("[::1]:4444", .tcp(host: "::1", port: 4444)),
        // A path with a colon is a path: it has a slash.
        ("./a:1", .unix(path: "./a:1")),
    ])
    func addressesAsUsersWriteThem(text: String, expected: QMPAddress) throws {
        #expect(try QMPAddress(parsing: text) == expected)
    }

    @Test func theDescriptionIsWhatWasWritten() throws {
        #expect(try QMPAddress(parsing: "[::1]:4444").description == "[::1]:4444")
        #expect(try QMPAddress(parsing: "localhost:4444").description == "localhost:4444")
    }

    @Test(arguments: [
        ("", "empty address"),
        ("[::1]", "invalid address '[::1]': expected [IPV6]:PORT"),
        ("host:99999", "invalid address 'host:99999': expected a socket path or HOST:PORT"),
        (":4444", "invalid address ':4444': expected a socket path or HOST:PORT"),
    ])
    func aMalformedAddressIsAnInvalidArgument(text: String, message: String) {
        #expect(throws: QMPError.invalidArgument(message)) { try QMPAddress(parsing: text) }
    }
}
