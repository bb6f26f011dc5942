// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "qmp-shell",
    products: [
        .library(name: "QMP", targets: ["QMP"]),
        .executable(name: "qmp-shell", targets: ["qmp-shell"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        // The embedded async QMP core: JSON, transport, client, events. No terminal code.
        .target(
            name: "QMP",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The line syntax: `cmd key=value` tokens, values, Python literals, raw JSON, directives,
        // transactions. Pure: it depends on the JSON types only (and is fuzzed on its own).
        .target(name: "QMPLineSyntax", dependencies: ["QMP"]),
        // The schema of the connected QEMU: its model, typing and validation of arguments, help,
        // suggestions, completion of arguments, the device catalog, the cache on disk, and the
        // store that fetches it per connection. No terminal code.
        .target(name: "QMPSchema", dependencies: ["QMP", "QMPLineSyntax", "ShellSystem"]),
        // libedit, wrapped in small stateless inline C functions Swift can call.
        .systemLibrary(
            name: "CEditLine",
            pkgConfig: "libedit",
            providers: [.apt(["libedit-dev"])]
        ),
        // The terminal's process-wide C state: signals through a self-pipe, the terminal mode
        // restored at exit, and C library calls Swift does not see.
        .target(name: "CTerminal"),
        // Line editing on a terminal: the terminal thread, its mailbox for text written above
        // the prompt, the layout of wrapped lines, the history file. Knows nothing of QMP.
        .target(name: "QMPLineEditing", dependencies: ["QMPLineSyntax", "ShellSystem", "CEditLine", "CTerminal"]),
        // The small system layer: whole-file reads and writes, private files, errno text.
        .target(name: "ShellSystem"),
        // libvirt's headers and a loader that finds its functions at run time (dlopen), so the
        // binary links no libvirt and runs where it is not installed.
        .target(name: "CLibvirt", linkerSettings: [.linkedLibrary("dl")]),
        // VMs that libvirt manages: connections, domains, the QEMU passthrough and its events.
        .target(
            name: "QMPLibvirt",
            dependencies: [
                "QMP", "CLibvirt",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Starting a process bound to ours (launch mode's QEMU): fork and prctl need C.
        .target(name: "CProcess"),
        // The shell: connecting (socket, launch, libvirt), the runner of lines and its output,
        // events above the prompt, and the run modes (interactive, script, watch, dry run).
        .target(
            name: "QMPShell",
            dependencies: [
                "QMP",
                "QMPLineSyntax",
                "QMPSchema",
                "QMPLineEditing",
                "QMPLibvirt",
                "ShellSystem",
                "CProcess",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The executable: argument parsing and wiring only.
        .executableTarget(
            name: "qmp-shell",
            dependencies: [
                "QMP",
                "QMPShell",
                "QMPSchema",
                "ShellSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Benchmarks run by `make bench`; not part of the test suite.
        .executableTarget(
            name: "qmp-bench",
            dependencies: ["QMP", "QMPSchema", "QMPShell", "QMPTestSupport"],
            path: "Benchmarks/qmp-bench"
        ),
        // Test helpers shared by the tests and the benchmarks: a scriptable fake QMP server,
        // a throwaway QEMU and qemu-ga, a pseudo-terminal driver.
        .target(
            name: "QMPTestSupport",
            dependencies: ["QMP"],
            path: "Tests/Support"
        ),
        // Test traits over the helpers (they need Swift Testing, which the benchmarks do not link).
        .target(
            name: "QMPTestTraits",
            dependencies: ["QMPTestSupport"],
            path: "Tests/Traits"
        ),
        // The helpers' own tests: the VT100 screen model, the pseudo-terminal driver, the fake
        // server's framing.
        .testTarget(name: "TestSupportTests", dependencies: ["QMP", "QMPTestSupport", "QMPTestTraits"]),
        // NIO for the transport-seam tests, whose transport is the test's own, and NIO's
        // EmbeddedChannel for the framer's.
        .testTarget(
            name: "QMPTests",
            dependencies: [
                "QMP", "QMPTestSupport", "QMPTestTraits", .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        // One test target per module.
        .testTarget(name: "QMPLineSyntaxTests", dependencies: ["QMP", "QMPLineSyntax"]),
        // The schema tests fetch the installed QEMU's schema, hence the test support.
        .testTarget(
            name: "QMPSchemaTests", dependencies: ["QMP", "QMPLineSyntax", "QMPSchema", "QMPTestSupport"]
        ),
        .testTarget(name: "QMPLineEditingTests", dependencies: ["QMPLineEditing"]),
        .testTarget(name: "ShellSystemTests", dependencies: ["ShellSystem"]),
        .testTarget(
            name: "QMPShellTests", dependencies: ["QMP", "QMPLineSyntax", "QMPSchema", "QMPShell", "QMPTestSupport"]
        ),
        // The libvirt layer against the private libvirtd `make test` starts.
        .testTarget(name: "QMPLibvirtTests", dependencies: ["QMP", "QMPLibvirt", "QMPTestSupport"]),
        // Runs the built `qmp-shell` as a user would: -c, -f, pipes, and a real pseudo-terminal.
        .testTarget(name: "EndToEndTests", dependencies: ["QMP", "QMPTestSupport", "QMPTestTraits"]),
    ],
    swiftLanguageModes: [.v6]
)
