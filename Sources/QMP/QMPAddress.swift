import Glibc

/// Where a QMP server listens: a UNIX socket path or a TCP host and port.
public enum QMPAddress: Sendable, Hashable, CustomStringConvertible {
    case unix(path: String)
    case tcp(host: String, port: Int)

    /// Reads an address as users write it: `/run/vm.sock`, `localhost:4444`, `[::1]:4444`.
    ///
    /// `host:port` means TCP only when the port is a number and no file of that name exists, so a
    /// socket file whose name contains a colon still works.
    public init(parsing text: String) throws(QMPError) {
        guard !text.isEmpty else { throw .invalidArgument("empty address") }
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"),
                text[text.index(after: close)...].hasPrefix(":"),
                let port = Int(text[text.index(close, offsetBy: 2)...]), (1...65535).contains(port)
            else { throw .invalidArgument("invalid address '\(text)': expected [IPV6]:PORT") }
            self = .tcp(host: String(text[text.index(after: text.startIndex)..<close]), port: port)
            return
        }
        if let colon = text.lastIndex(of: ":"), !text.contains("/"), access(text, F_OK) != 0 {
            let host = String(text[..<colon])
            let portText = text[text.index(after: colon)...]
            guard !host.isEmpty, let port = Int(portText), (1...65535).contains(port) else {
                throw .invalidArgument("invalid address '\(text)': expected a socket path or HOST:PORT")
            }
            self = .tcp(host: host, port: port)
            return
        }
        self = .unix(path: text)
    }

    public var description: String {
        switch self {
        case .unix(let path): return path
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }
}
