import SystemThread
#if canImport(Glibc)
import Locking
import Glibc
#endif
import CEpoll

/// An HTTP/1.1 server: one event-loop thread serving every connection.
///
///     let server = Server(configuration: .init(port: 8080)) { request, responder in
///         responder.respond(status: .ok, body: "hello")
///     }
///     try server.start()
///     ...
///     server.stopAccepting(); _ = server.waitUntilDrained(timeout: .seconds(10)); server.stop()
public final class Server: Sendable {
    private struct Running: Sendable {
        let thread: pthread_t
        let mailbox: LoopMailbox
        let port: Int
    }

    public let configuration: ServerConfiguration
    public let counters = ServerCounters()
    private let handler: HTTPHandler
    private let quick: QuickHandler?
    private let clock: any MonotonicClock
    private let running = Locked<Running?>(nil)

    public init(
        configuration: ServerConfiguration = ServerConfiguration(),
        clock: any MonotonicClock = SystemMonotonicClock(),
        quick: QuickHandler? = nil,
        handler: @escaping HTTPHandler
    ) {
        self.configuration = configuration
        self.clock = clock
        self.quick = quick
        self.handler = handler
    }

    deinit { stop() }

    /// The port bound by `start()` (the kernel's choice when configured as 0); 0 before start.
    public var port: Int { running.withLock { $0?.port ?? 0 } }

    /// The event loop's thread while running, for pinning it to CPUs.
    public var loopThread: pthread_t? { running.withLock { $0?.thread } }

    /// Loads the TLS certificate and key (when configured), binds, and starts the event loop
    /// thread. Throws `TLSSetupError` for an unusable certificate or key, before binding, and
    /// `SyscallError` if binding fails.
    public func start() throws {
        // Plain sends use MSG_NOSIGNAL; OpenSSL writes with write(2), which needs this.
        _ = cepoll_ignore_sigpipe()
        try running.withLock { running in
            precondition(running == nil, "Server.start() called twice")
            let tlsContext = try configuration.tls.map { tls throws(TLSSetupError) in try TLSContext(tls) }
            let (listenFD, port) = try Socket.listen(
                host: configuration.host, port: configuration.port, backlog: configuration.backlog)
            let mailbox: LoopMailbox
            let loop: EventLoop
            do {
                mailbox = try LoopMailbox()
                loop = try EventLoop(
                    configuration: configuration, listenFD: listenFD, handler: handler, quick: quick,
                    counters: counters, mailbox: mailbox, clock: clock, tlsContext: tlsContext)
            } catch {
                closeDescriptor(listenFD)
                throw error
            }
            let thread = try startLoopThread(loop)
            running = Running(thread: thread, mailbox: mailbox, port: port)
        }
    }

    /// Stops accepting (the listening socket is closed) and closes idle connections; requests
    /// in flight finish, and their connections close when their response is done.
    public func stopAccepting() {
        _ = running.withLock { $0?.mailbox.post(.stopAccepting) }
    }

    /// Waits until no connection is open, or the timeout passes. Returns whether drained.
    public func waitUntilDrained(timeout: Duration) -> Bool {
        let deadline = clock.nowNanoseconds() &+ timeout.nanoseconds
        while counters.openConnections > 0 {
            if clock.nowNanoseconds() >= deadline { return false }
            usleep(2_000)
        }
        return true
    }

    /// Stops the loop and waits for its thread: every connection is closed, and responses in
    /// flight are cancelled. Safe to call more than once.
    public func stop() {
        guard let run = running.withLock({ r -> Running? in defer { r = nil }; return r }) else { return }
        run.mailbox.post(.stop)
        pthread_join(run.thread, nil)
    }
}

private func startLoopThread(_ loop: EventLoop) throws -> pthread_t {
    do {
        return try startThread(loop)
    } catch {
        throw SyscallError(function: "pthread_create", errno: error.errno)
    }
}

extension EventLoop: ThreadMain {
    func threadMain() { run() }
}
