extension FleetScript {
    /// Whether a line of the script may send `exec-oob`, which QEMU takes only on a connection
    /// that enabled out-of-band execution in `qmp_capabilities`: a line that names it (a JSON
    /// line `{"exec-oob": ...}`), one with a backslash (a JSON escape could spell the name), or
    /// a `.source` (its file is read only as it runs).
    ///
    /// A fleet asks for out-of-band execution only then: enabling it costs each QEMU about a
    /// third more CPU for a short session (measured: 0.80 against 0.57 ms for connect, one
    /// command and close), which a hundred QEMUs sharing the host's cores pay in wall time.
    var mayUseOutOfBand: Bool {
        sources.contains { source in
            source.lines.contains { line in
                line.contains("exec-oob") || line.contains("\\") || line.contains(".source")
            }
        }
    }
}
