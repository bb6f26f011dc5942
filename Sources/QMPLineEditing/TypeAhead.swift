import CTerminal
import Glibc

/// Keys typed as a line ended, read from the terminal's input queue right after it ended, and
/// served to the next line before the terminal's own.
///
/// While a line is edited, the interrupt and quit characters are keys, so that they keep their
/// order with the keys around them; the terminal makes them signals again only once the line has
/// ended, a moment after its last key. One typed in that moment (Enter and Ctrl-C in one burst, or
/// on a busy machine) is a byte waiting in the queue rather than a signal, and would wait there for
/// the next prompt while the command it was meant to stop runs on. So when a line ends, the keys
/// already waiting are read: an interrupt among them stops the line's command, as the signal
/// would have; the keys typed before it are dropped (as the terminal drops them on a signal), and
/// those after it wait here for the next line.
struct TypeAhead {
    private var bytes: [UInt8] = []
    private var next = 0

    /// Whether no key waits here.
    var isEmpty: Bool { next == bytes.count }

    /// Reads the keys waiting on `descriptor`, and returns whether one of them (the last, if
    /// several) is one of `interruptKeys`: then only the keys after it are kept.
    mutating func takeWaitingKeys(from descriptor: Int32, interruptKeys: Set<UInt8>) -> Bool {
        let available = qmpshell_bytes_available(descriptor)
        guard available > 0 else { return false }
        var waiting = [UInt8](repeating: 0, count: Int(available))
        let count = read(descriptor, &waiting, waiting.count)
        guard count > 0 else { return false }
        bytes.removeSubrange(..<next)
        next = 0
        bytes += waiting[..<count]
        guard let interrupt = bytes.lastIndex(where: interruptKeys.contains) else { return false }
        bytes.removeSubrange(...interrupt)
        return true
    }

    /// The next key byte kept here, if any.
    mutating func nextByte() -> UInt8? {
        guard next < bytes.count else { return nil }
        defer {
            next += 1
            if next == bytes.count {
                bytes.removeAll(keepingCapacity: true)
                next = 0
            }
        }
        return bytes[next]
    }
}
