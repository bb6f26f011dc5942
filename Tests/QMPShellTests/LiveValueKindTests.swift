import Testing

@testable import QMPShell

/// Which argument takes which kind of live name, and reading netdev ids from HMP.
@Suite(.timeLimit(.minutes(1))) struct LiveValueKindTests {
    @Test func theCommandAndTheArgumentTypeDecideTheKind() {
        func kind(_ command: String, _ key: String, string: Bool = true, path: String? = nil) -> LiveValueKind? {
            LiveValueKind.kind(command: command, keyPath: [key], takesString: string, qomPath: path)
        }
        #expect(kind("device_del", "id") == .deviceIDs)
        #expect(kind("job-dismiss", "id") == .jobIDs)
        #expect(kind("block-job-cancel", "device") == .jobIDs)
        #expect(kind("object-del", "id") == .objectIDs)
        #expect(kind("chardev-remove", "id") == .chardevIDs)
        #expect(kind("chardev-add", "id") == nil, "a new chardev's id")
        #expect(kind("netdev_del", "id") == .netdevIDs)
        #expect(kind("blockdev-backup", "target") == .blockNames)
        #expect(kind("drive-backup", "target") == nil, "a file name")
        #expect(kind("blockdev-add", "node-name") == nil, "a new node's name")
        #expect(kind("block-dirty-bitmap-add", "node") == .blockNames)
        #expect(kind("block-dirty-bitmap-add", "node", string: false) == nil)
        #expect(kind("qom-get", "property", path: "/objects/m") == .qomProperties(of: "/objects/m"))
        #expect(kind("qom-get", "property") == nil, "no path on the line")
        #expect(
            LiveValueKind.kind(command: "blockdev-add", keyPath: ["file", "node"], takesString: true, qomPath: nil)
                == nil, "nested members are the new node's")
    }

    @Test func netdevIDsAreReadFromInfoNetworkWithoutNICsAndHubs() {
        let text =
            "hub 0\r\n \\ hp\r\ne1000.0: index=0,type=nic,model=e1000,macaddr=52:54:00:12:34:56\r\n \\ n1: index=0,type=user,net=10.0.2.0\r\nn2: index=0,type=user\r\n"
        #expect(LiveValues.netdevIDs(inInfoNetwork: text) == ["hp", "n1", "n2"])
    }
}
