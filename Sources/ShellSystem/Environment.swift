import Glibc

/// An environment variable, if it is set and not empty (an empty value counts as unset, as
/// the XDG specification and `NO_COLOR` want).
public func environmentValue(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    let text = String(cString: value)
    return text.isEmpty ? nil : text
}
