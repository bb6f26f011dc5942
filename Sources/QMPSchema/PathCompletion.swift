import Glibc
import QMPLineSyntax

/// File names for Tab, like a shell: the entries of the directory named so far that start with
/// the rest, directories with a `/`, files with a space. Hidden entries only when the name typed
/// starts with a dot. Relative names are relative to the shell's current directory (QEMU resolves
/// them against its own, usually the same when both run on one machine). `~` is not expanded,
/// since QEMU would not expand it either.
public enum PathCompletion {
    /// At most this many entries are read from one directory, so Tab stays fast anywhere.
    static let entryLimit = 5_000

    /// The completions of `typed`: the names in its directory that start with what follows its
    /// last `/`, which they replace.
    public static func complete(_ typed: String) -> CompletionResult {
        let directoryPart: Substring
        let namePrefix: Substring
        if let slash = typed.lastIndex(of: "/") {
            directoryPart = typed[...slash]
            namePrefix = typed[typed.index(after: slash)...]
        } else {
            directoryPart = ""
            namePrefix = Substring(typed)
        }
        let directory = directoryPart.isEmpty ? "." : String(directoryPart)
        guard let stream = opendir(directory) else { return .none }
        defer { closedir(stream) }
        let prefixBytes = Array(namePrefix.utf8)
        let showHidden = prefixBytes.first == UInt8(ascii: ".")
        var candidates: [String] = []
        var read = 0
        while read < entryLimit, let entry = readdir(stream) {
            read += 1
            // Compare the raw name first: most entries of a large directory do not match.
            let matches = withUnsafeBytes(of: &entry.pointee.d_name) { bytes in
                bytes.starts(with: prefixBytes) && (showHidden || bytes[0] != UInt8(ascii: "."))
            }
            guard matches else { continue }
            let name = withUnsafeBytes(of: &entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard name != ".", name != ".." else { continue }
            let isDirectory: Bool
            switch Int32(entry.pointee.d_type) {
            case Int32(DT_DIR): isDirectory = true
            case Int32(DT_LNK), Int32(DT_UNKNOWN):
                var status = stat()
                isDirectory = fstatat(dirfd(stream), name, &status, 0) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
            default: isDirectory = false
            }
            let quoted = name.utf8.contains {
                $0 <= 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "'") || $0 == UInt8(ascii: "#")
            }
            candidates.append((quoted ? "\"" + name.replacingQuotes() + "\"" : name) + (isDirectory ? "/" : " "))
        }
        return CompletionResult(replacementLength: namePrefix.count, candidates: candidates.sorted())
    }
}

extension String {
    fileprivate func replacingQuotes() -> String {
        var result = ""
        for character in self {
            if character == "\"" || character == "\\" { result.append("\\") }
            result.append(character)
        }
        return result
    }
}
