import Glibc

/// What the report says about the machine, so a reader can judge the figures: the ratios only
/// hold for one run on one machine, and other load skews them.
enum Machine {
    static var summary: String {
        var name = utsname()
        uname(&name)
        let system = withUnsafeBytes(of: &name.sysname) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let machine = withUnsafeBytes(of: &name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return
            "\(system) \(release) \(machine), \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) CPUs online, load average \(loadAverage)"
    }

    /// The 1, 5 and 15 minute load averages.
    static var loadAverage: String {
        var loads = [Double](repeating: 0, count: 3)
        guard getloadavg(&loads, 3) == 3 else { return "unknown" }
        return loads.map { Format.fixed($0, digits: 2) }.joined(separator: " ")
    }
}
