#if canImport(Glibc)
import Glibc
#endif
import CEpoll
import COpenSSL

/// One thread, one epoll instance, every connection. Level-triggered: a connection that is not
/// ready to take more input simply drops EPOLLIN from its interest set.
///
/// Timeouts use a periodic sweep rather than per-connection timers: epoll_wait sleeps at most
/// until the next sweep, and a sweep checks each connection's `ConnectionTimer`. With timeouts
/// in seconds and a sweep a fraction of the shortest one, this is cheap and accurate enough.
final class EventLoop: @unchecked Sendable {  // handed to its thread once, then confined to it
    static let listenerToken: UInt64 = 0
    static let wakeToken: UInt64 = 1
    static let baseEvents: UInt32 = CEPOLL_IN | CEPOLL_RDHUP

    let configuration: ServerConfiguration
    let handler: HTTPHandler
    let quick: QuickHandler?
    /// The answer `quick` fills, its buffers reused from request to request.
    @exclusivity(unchecked) var quickAnswer = QuickAnswer()
    /// The Date line of quick answers and the second it was made for (the loop's own copy: the
    /// shared `HTTPDate` takes a lock).
    var dateSecond = -1
    var dateLine: [UInt8] = []
    let counters: ServerCounters
    let mailbox: LoopMailbox
    let clock: any MonotonicClock
    /// Set when serving TLS: every accepted connection starts with a handshake.
    let tlsContext: TLSContext?
    /// Set when gzip is on; handed to each responder.
    let compression: ResponseCompression?
    let epollFD: Int32
    var listenFD: Int32
    var listenerPaused = false
    var connections: [UInt64: Connection] = [:]
    var nextID: UInt64 = 2
    let readBuffer: UnsafeMutableRawBufferPointer
    /// Connections whose response just finished and may have pipelined input to parse.
    var ready: [Connection] = []
    var running = true
    var draining = false
    let sweepInterval: UInt64
    var nextSweep: UInt64
    /// Input buffered while a request is in flight, beyond which reading pauses.
    let inputCap: Int

    init(
        configuration: ServerConfiguration, listenFD: Int32, handler: @escaping HTTPHandler, quick: QuickHandler? = nil,
        counters: ServerCounters, mailbox: LoopMailbox, clock: any MonotonicClock,
        tlsContext: TLSContext? = nil
    ) throws {
        self.configuration = configuration
        self.handler = handler
        self.quick = quick
        self.counters = counters
        self.mailbox = mailbox
        self.clock = clock
        self.tlsContext = tlsContext
        self.compression = configuration.gzip
            ? ResponseCompression(minimumBytes: configuration.gzipMinimumBytes, level: configuration.gzipLevel) : nil
        self.listenFD = listenFD
        self.epollFD = try syscallOrThrow("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        // Under TLS a read must have room for a whole record (see TLSSession.read).
        let leastRead = tlsContext == nil ? 4096 : Int(COPENSSL_MAX_RECORD_PLAINTEXT)
        self.readBuffer = .allocate(byteCount: max(leastRead, configuration.readBufferSize), alignment: 16)
        self.inputCap = max(configuration.readBufferSize,
                            configuration.limits.maxRequestLineLength + configuration.limits.maxHeaderBytes)
        let t = configuration.timeouts
        let phases = [t.header, t.body, t.idle, t.writeStall, t.linger] + (tlsContext == nil ? [] : [t.tlsHandshake])
        let shortest = phases.map(\.nanoseconds).min() ?? 1_000_000_000
        // A quarter of the shortest timeout, between 5 ms and 250 ms.
        self.sweepInterval = min(max(shortest / 4, 5_000_000), 250_000_000)
        self.nextSweep = clock.nowNanoseconds() &+ sweepInterval
        do {
            try control(EPOLL_CTL_ADD, fd: listenFD, events: CEPOLL_IN, token: Self.listenerToken)
            try control(EPOLL_CTL_ADD, fd: mailbox.eventFD, events: CEPOLL_IN, token: Self.wakeToken)
        } catch {
            closeDescriptor(epollFD)
            readBuffer.deallocate()
            throw error
        }
    }

    deinit { readBuffer.deallocate() }

    var now: UInt64 { clock.nowNanoseconds() }

    func control(_ op: Int32, fd: Int32, events: UInt32, token: UInt64) throws(SyscallError) {
        var event = cepoll_event(events, token)
        _ = try syscallOrThrow("epoll_ctl") { epoll_ctl(epollFD, op, fd, &event) }
    }

    func run() {
        mailbox.setLoopThread(pthread_self())
        let capacity = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        var workLeft = false
        while running {
            let current = now
            let waitMs: Int32 = workLeft || nextSweep <= current
                ? 0 : Int32(min((nextSweep - current + 999_999) / 1_000_000, 1000))
            let count: Int
            do {
                switch try syscall("epoll_wait", { epoll_wait(epollFD, events, Int32(capacity), waitMs) }) {
                case .done(let n): count = Int(n)
                case .wouldBlock: count = 0
                }
            } catch {
                // epoll_wait fails only on a bad descriptor or pointer: nothing sensible is left.
                fatalError("event loop: \(error)")
            }
            for i in 0..<count {
                let token = cepoll_event_token(events + i)
                let flags = cepoll_event_flags(events + i)
                switch token {
                case Self.listenerToken: acceptConnections()
                case Self.wakeToken: mailbox.acknowledgeWake()
                default:
                    if let connection = connections[token] { handleEvent(connection, flags) }
                }
            }
            let after = now
            if after >= nextSweep {
                sweep(now: after)
                nextSweep = after &+ sweepInterval
            }
            // Last, so that whatever the events and the sweep posted on this thread (which
            // does not signal the eventfd) is applied before sleeping again.
            workLeft = processMessagesAndReady()
        }
        shutdownAll()
    }

    /// Applies posted output and parses pipelined input of connections that became free, until
    /// neither has anything left. Bounded, so that a flood of posts cannot starve socket events;
    /// returns true when work was left for the next turn (which then does not sleep).
    func processMessagesAndReady() -> Bool {
        for _ in 0..<64 {
            let messages = mailbox.takeAll()
            if messages.isEmpty && ready.isEmpty { return false }
            // Everything posted for a connection since the last turn leaves in one write (a
            // stream's last token, its usage chunk, [DONE] and the chunked end: 1 send, not 5).
            var written: [Connection] = []
            for message in messages { apply(message, written: &written) }
            for connection in written {
                connection.flushQueued = false
                guard connection.state != .closed else { continue }
                flush(connection)
                updateInterest(connection)
            }
            var batch: [Connection] = []
            swap(&batch, &ready)
            for connection in batch where connection.state == .reading {
                processInput(connection)
                updateInterest(connection)
            }
        }
        return true
    }

    func apply(_ message: LoopMessage, written: inout [Connection]) {
        switch message {
        case .output(let ref, let sequence, let bytes, let end, let streamed):
            let c = ref.connection
            if appendOutput(c, sequence: sequence, bytes: bytes, end: end, streamed: streamed) && !c.flushQueued {
                c.flushQueued = true
                written.append(c)
            }
        case .stopAccepting:
            beginDrain()
        case .stop:
            running = false
        }
    }

    func beginDrain() {
        draining = true
        mailbox.draining.store(true, ordering: .relaxed)
        closeListener()
        // Connections between requests have nothing in flight: close them now.
        // A TLS handshake under way has no request yet either.
        for connection in Array(connections.values)
        where connection.state == .handshaking || (connection.state == .reading && connection.parser.phase == .idle
            && connection.pendingInput == 0 && connection.pendingOutput == 0) {
            close(connection)
        }
    }

    func closeListener() {
        guard listenFD >= 0 else { return }
        if !listenerPaused { try? control(EPOLL_CTL_DEL, fd: listenFD, events: 0, token: Self.listenerToken) }
        closeDescriptor(listenFD)
        listenFD = -1
    }

    func shutdownAll() {
        for connection in Array(connections.values) { close(connection) }
        closeListener()
        mailbox.close()
        closeDescriptor(epollFD)
    }
}
