import Glibc
import NIOCore
import NIOPosix

/// The stream-socket transport (UNIX or TCP): a NIO channel whose ``MessageFramer`` splits the
/// byte stream into messages, one per line, as QEMU and qemu-ga write them.
final class SocketTransport: QMPTransport {
    let channel: any Channel
    /// A duplicate of a UNIX socket's descriptor, for SCM_RIGHTS; `nil` over TCP. Closed with
    /// the channel.
    private let descriptorForPassing: Int32?

    private init(channel: any Channel, descriptorForPassing: Int32?) {
        self.channel = channel
        self.descriptorForPassing = descriptorForPassing
        channel.closeFuture.whenComplete { _ in
            if let descriptorForPassing { closeDescriptor(descriptorForPassing) }
        }
    }

    var eventLoop: any EventLoop { channel.eventLoop }

    /// Connects to `address`.
    static func connect(to address: QMPAddress, inbound: QMPInbound) async throws -> SocketTransport {
        switch address {
        case .unix(let path):
            return try await adopt(UnixSocket.connect(path: path), inbound: inbound)
        case .tcp(let host, let port):
            let channel = try await bootstrap(inbound).connect(host: host, port: port).get()
            return SocketTransport(channel: channel, descriptorForPassing: nil)
        }
    }

    /// Takes over `descriptor`, a connected UNIX stream socket (it is closed if this fails).
    static func adopt(_ descriptor: Int32, inbound: QMPInbound) async throws -> SocketTransport {
        let spare = dup(descriptor)
        do {
            let channel = try await bootstrap(inbound).withConnectedSocket(descriptor).get()
            return SocketTransport(channel: channel, descriptorForPassing: spare >= 0 ? spare : nil)
        } catch {
            if spare >= 0 { closeDescriptor(spare) }
            throw error
        }
    }

    func send(_ message: [UInt8]) -> EventLoopFuture<Void> {
        var buffer = channel.allocator.buffer(capacity: message.count + 1)
        buffer.writeBytes(message)
        buffer.writeInteger(UInt8(0x0A))
        return channel.writeAndFlush(buffer)
    }

    func passDescriptors(_ descriptors: [Int32]) async throws(QMPError) {
        guard let socket = descriptorForPassing else {
            throw .invalidArgument("file descriptors can only be passed over a UNIX socket, not TCP")
        }
        do {
            // After everything already queued, so the descriptors go with the next command.
            try await channel.writeAndFlush(ByteBuffer()).get()
            try await channel.eventLoop.submit { try UnixSocket.sendDescriptors(descriptors, over: socket) }.get()
        } catch {
            if let error = error as? QMPError { throw error }
            throw .disconnected("could not pass file descriptors: \(QMPClient.describe(error))")
        }
    }

    func setReading(_ on: Bool) {
        // Only ever called on the event loop, where the synchronous options are available.
        try? channel.syncOptions?.setOption(ChannelOptions.autoRead, value: on)
    }

    func close() {
        channel.close(promise: nil)
    }

    private static func bootstrap(_ inbound: QMPInbound) -> ClientBootstrap {
        ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            // Floods arrive in big reads: one wake-up for many events (the buffer doubles after
            // each read that fills it). It starts small: a connection's first read copies its
            // whole buffer (NIO's pooled receive buffer is shared when it is first written to),
            // and the pool keeps it for the connection's life; 64 KiB made that copy and its
            // page faults a quarter of a 100-target fleet run's event-loop time, and 64 KiB of
            // memory per target, for replies of a few hundred bytes.
            .channelOption(
                ChannelOptions.recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 4096, maximum: 256 << 10)
            )
            // One read per wake-up: a listener that pauses reading when full (see
            // EventListener.OverflowPolicy.pauseReading) then takes in at most one more buffer.
            .channelOption(ChannelOptions.maxMessagesPerRead, value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(MessageFramer(sink: inbound.sink))
                }
            }
    }
}

/// close(2), under a name the transport's own `close()` does not hide.
private func closeDescriptor(_ descriptor: Int32) {
    _ = close(descriptor)
}
