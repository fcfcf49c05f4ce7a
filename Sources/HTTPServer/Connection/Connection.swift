/// One client connection. Owned and touched only by the event loop thread.
final class Connection {
    enum State: Equatable {
        /// TLS only: the handshake is under way; no HTTP byte has been read yet.
        case handshaking
        /// Parsing a request (or waiting for one).
        case reading
        /// The handler has the request; input is buffered, not parsed (pipelining stays ordered).
        case inFlight
        /// Sending a response the server produced itself, then closing.
        case closingAfterWrite
        /// Write side shut down; discarding input until the client closes or the linger timeout.
        case lingering
        case closed
    }

    let id: UInt64
    let fd: Int32
    /// nil for plain HTTP: the plain path pays one nil check per read or write (see Transport.swift).
    let tls: TLSSession?
    var state: State
    // The properties changed in place on every request are exempt from the runtime's dynamic
    // exclusivity checks: only the loop thread touches a connection, one access at a time, and
    // the checks (a thread-local access set per access) were 4% of a probe's CPU.
    @exclusivity(unchecked) var parser: HTTPRequestParser
    @exclusivity(unchecked) var timer: ConnectionTimer

    /// Received bytes not yet parsed; `inputStart` is the first unparsed one.
    @exclusivity(unchecked) var input: [UInt8] = []
    var inputStart = 0
    var head: HTTPRequestHead?
    @exclusivity(unchecked) var body: [UInt8] = []

    /// Bytes queued for the socket; `outputStart` is the first unsent one.
    @exclusivity(unchecked) var output: [UInt8] = []
    var outputStart = 0
    /// Output was queued by the current batch of posted messages and is written once after it.
    var flushQueued = false

    /// Numbers requests on this connection so output for an earlier one is recognised as stale.
    var sequence: UInt64 = 0
    var responder: HTTPResponder?
    /// Set when the last piece of the in-flight response has been queued.
    var responseEnd: ResponseEnd?

    /// The peer shut down its sending side (EPOLLRDHUP, or a read of 0 bytes). A full close and
    /// a half-close (`shutdown(SHUT_WR)`, as `nc -N` and some proxies do) look the same until
    /// something is written, so requests already received are still answered; nothing more is
    /// read once the socket is drained.
    var inputEnded = false
    /// Bytes of the in-flight request's response have been queued.
    var responseStarted = false
    /// The in-flight request is HTTP/1.1, whose clients must accept an interim (1xx) response.
    var interimAllowed = false

    /// What epoll currently watches for, so interest changes cost a syscall only when needed.
    var registeredEvents: UInt32
    var readPaused = false

    init(id: UInt64, fd: Int32, tls: TLSSession? = nil, limits: HTTPLimits, timer: ConnectionTimer, events: UInt32) {
        self.id = id
        self.fd = fd
        self.tls = tls
        self.state = tls == nil ? .reading : .handshaking
        self.parser = HTTPRequestParser(limits: limits)
        self.timer = timer
        self.registeredEvents = events
    }

    var pendingInput: Int { input.count - inputStart }
    var pendingOutput: Int { output.count - outputStart }

    /// Drops consumed input, without shifting bytes on every read.
    func compactInput() {
        if inputStart == input.count {
            input.removeAll(keepingCapacity: input.capacity <= 256 * 1024)
            inputStart = 0
        } else if inputStart > 64 * 1024 {
            input.removeFirst(inputStart)
            inputStart = 0
        }
    }
}
