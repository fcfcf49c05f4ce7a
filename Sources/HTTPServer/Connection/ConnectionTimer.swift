/// The deadlines of one connection, as a pure state machine over an injected clock reading.
///
/// Reading and writing have separate deadlines because they overlap: a streamed response is
/// being written while the connection waits for the handler, and pipelined input may arrive
/// meanwhile. The event loop tells the timer what happened; a periodic sweep asks `expired`.
public struct ConnectionTimer: Sendable, Equatable {
    public enum ReadPhase: Sendable, Equatable {
        /// TLS only: from accept to the end of the handshake. Total, not per read.
        case handshake
        /// Waiting for (or inside) a request head. The deadline is total, not per read.
        case head
        /// Inside a request body; the deadline moves with every byte received.
        case body
        /// Keep-alive wait for the next request's first byte.
        case idle
        /// The handler owns the request: no read deadline (generation may take minutes).
        case handler
        /// The handler owns the request and the peer has shut down its sending side: at the
        /// deadline the loop checks whether anyone still reads (`HTTPTimeouts.halfCloseProbe`).
        case halfClosed
        /// Closing: draining what the client still sends before close.
        case linger
    }

    public enum Expiry: Sendable, Equatable {
        case handshake, head, body, idle, writeStall, linger, halfCloseProbe
    }

    let timeouts: HTTPTimeouts
    public private(set) var phase: ReadPhase
    public private(set) var readDeadline: UInt64?
    public private(set) var writeDeadline: UInt64?

    /// A new connection starts in `.head` (`.handshake` for TLS): a client that connects and
    /// sends nothing is held only as long as one that sends half a head.
    public init(timeouts: HTTPTimeouts, now: UInt64, phase: ReadPhase = .head) {
        self.timeouts = timeouts
        self.phase = phase
        self.enter(phase, now: now, force: true)
    }

    public mutating func enter(_ newPhase: ReadPhase, now: UInt64) {
        enter(newPhase, now: now, force: false)
    }

    private mutating func enter(_ newPhase: ReadPhase, now: UInt64, force: Bool) {
        // Head and handshake time are totals: re-entering the phase never extends them.
        if !force, newPhase == phase, newPhase == .head || newPhase == .handshake { return }
        phase = newPhase
        switch newPhase {
        case .handshake: readDeadline = now &+ timeouts.tlsHandshake.nanoseconds
        case .head: readDeadline = now &+ timeouts.header.nanoseconds
        case .body: readDeadline = now &+ timeouts.body.nanoseconds
        case .idle: readDeadline = now &+ timeouts.idle.nanoseconds
        case .linger: readDeadline = now &+ timeouts.linger.nanoseconds
        case .halfClosed: readDeadline = now &+ timeouts.halfCloseProbe.nanoseconds
        case .handler: readDeadline = nil
        }
    }

    /// Body bytes arrived: the body deadline counts from the latest progress.
    public mutating func bodyProgress(now: UInt64) {
        if phase == .body { readDeadline = now &+ timeouts.body.nanoseconds }
    }

    /// Output is queued that the socket would not take. Starts the stall clock once; it is not
    /// restarted by more output being queued, only by bytes actually leaving.
    public mutating func outputPending(now: UInt64) {
        if writeDeadline == nil { writeDeadline = now &+ timeouts.writeStall.nanoseconds }
    }

    public mutating func outputProgress(now: UInt64) {
        if writeDeadline != nil { writeDeadline = now &+ timeouts.writeStall.nanoseconds }
    }

    public mutating func outputDrained() {
        writeDeadline = nil
    }

    /// The deadline that has passed, if any; a stalled writer is reported first.
    public func expired(now: UInt64) -> Expiry? {
        if let w = writeDeadline, now >= w { return .writeStall }
        guard let r = readDeadline, now >= r else { return nil }
        switch phase {
        case .handshake: return .handshake
        case .head: return .head
        case .body: return .body
        case .idle: return .idle
        case .linger: return .linger
        case .halfClosed: return .halfCloseProbe
        case .handler: return nil
        }
    }

    public var nextDeadline: UInt64? {
        switch (readDeadline, writeDeadline) {
        case let (r?, w?): min(r, w)
        case let (r?, nil): r
        case let (nil, w?): w
        case (nil, nil): nil
        }
    }
}
