import NIOCore
import NIOPosix

/// Runs the jobs of the tasks that prefer it (`withTaskExecutorPreference`) on the event loop
/// that reads and writes the QMP connection, so that a script's lock-step work (a line parsed,
/// its command written, the reply read, routed and printed, the next line) stays on one thread:
/// no hand-off to NIO's thread for each write, nor back to the concurrency pool for each reply.
///
/// That loop is NIO's singleton group's first, which is the connection's when the group has only
/// one (``useOneEventLoop()``: a shell has one connection, a second loop would stay idle). On any
/// other loop the jobs would run just as well, only with the hand-offs again. Work that blocks runs
/// elsewhere as before (standard input is read on NIO's thread pool).
public final class ConnectionExecutor: TaskExecutor {
    private let eventLoop: any EventLoop

    public init() {
        eventLoop = MultiThreadedEventLoopGroup.singleton.next()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { [self] in job.runSynchronously(on: asUnownedTaskExecutor()) }
    }

    /// Makes NIO's singleton event loop group one loop, so every connection is on the loop
    /// ``ConnectionExecutor`` runs on (and start-up makes one thread fewer). Call once, first
    /// thing in `main`, before anything uses NIO.
    public static func useOneEventLoop() {
        NIOSingletons.groupLoopCountSuggestion = 1
    }
}
