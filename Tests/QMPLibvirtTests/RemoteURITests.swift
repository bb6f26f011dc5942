import Testing

@testable import QMPLibvirt

/// Which libvirt URIs name a daemon on another host, where file descriptors cannot be passed.
@Suite("libvirt URIs: local or remote", .timeLimit(.minutes(1)))
struct RemoteURITests {
    @Test(arguments: [
        ("qemu:///system", false),
        ("qemu:///session", false),
        ("qemu:///system?socket=/tmp/qmp-libvirtd.x/libvirt-sock", false),
        ("qemu+unix:///system", false),
        ("qemu+unix://ignored/system?socket=/run/libvirt/libvirt-sock", false),
        ("test:///default", false),
        ("qemu", false),
        ("qemu+ssh://host/system", true),
        ("qemu+ssh://root@host.example:2222/system?keyfile=/k", true),
        ("qemu+tcp://127.0.0.1/system", true),
        ("qemu+tls://[::1]:16514/system", true),
    ])
    func aURINamesAHostOnlyWhenItHasOneOutsideUnixTransport(uri: String, remote: Bool) {
        #expect(LibvirtConnection.namesAHost(uri) == remote, "\(uri)")
    }
}
