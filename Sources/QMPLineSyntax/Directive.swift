/// The shell's own commands. They start with a dot, so they never shadow a QMP command.
public enum Directive: String, CaseIterable, Sendable {
    case help, quit, echo, wait, sleep, source
    case addFD = "add-fd"
    case getFD = "getfd"
    case qomTree = "qom-tree"
    case job, jobs

    /// One line of usage, for `.help`.
    public var usage: String {
        switch self {
        case .help:
            return ".help [NAME [tag=value ...]]    this list, or the usage of a directive (.NAME),\n"
                + "                                the arguments of a command or the data of an event"
        case .quit: return ".quit                           leave the shell"
        case .echo: return ".echo TEXT                      print TEXT (to standard error in scripts)"
        case .wait:
            return ".wait EVENT [key=value ...] [timeout=SECONDS]\n"
                + "                                wait for EVENT whose data matches (dotted paths);\n"
                + "                                any event no earlier .wait took counts; default 30 s"
        case .sleep: return ".sleep SECONDS                  pause"
        case .source: return ".source FILE                    run the lines of FILE"
        case .addFD:
            return ".add-fd PATH [fdset-id=N] [opaque=TEXT]\n"
                + "                                open PATH and pass it to QEMU (add-fd); use it as /dev/fdset/N"
        case .getFD: return ".getfd NAME PATH                open PATH and pass it to QEMU as NAME (getfd)"
        case .qomTree:
            return ".qom-tree [PATH]                the QOM tree below PATH (default /machine), with types\n"
                + "                                and readable values; JSON lines when not on a terminal"
        case .job:
            return ".job ID [timeout=SECONDS] [dismiss=on|off]\n"
                + "                                drive job ID to its end (complete, finalize, dismiss);\n"
                + "                                fails with the job's error; default timeout 60 s"
        case .jobs: return ".jobs                           the jobs and the migration, once"
        }
    }

    /// `.help` text.
    public static var overview: String {
        "Type a QMP command with key=value arguments, a raw JSON message, or a directive:\n"
            + allCases.map { "  " + $0.usage.replacingNewlines(indent: "  ") }.joined(separator: "\n")
            + "\nValues: \"quoted\" strings, true/false, null, numbers, {JSON} or [JSON]; dotted keys nest (file.driver=file).\n"
            + "transaction( ACTION key=value ... ) groups actions; Tab completes; Ctrl-D leaves.\n"
    }
}

extension String {
    fileprivate func replacingNewlines(indent: String) -> String {
        split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n" + indent)
    }
}
