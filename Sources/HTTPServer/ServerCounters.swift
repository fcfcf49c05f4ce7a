import Locking
import Synchronization

/// Counters the loop updates and any thread may read.
public final class ServerCounters: Sendable {
    public struct Snapshot: Sendable, Equatable {
        public var openConnections: Int
        public var acceptedConnections: Int
        /// Refused at accept: over `maxConnections`, or arriving while draining.
        public var rejectedConnections: Int
        /// Idle keep-alive connections closed at the limit to admit a new one.
        public var evictedConnections: Int
        public var requestsParsed: Int
        /// Requests the server answered itself with an error (400, 408, 413, …), by status code.
        public var parseErrorsByStatus: [Int: Int]
        /// TLS handshakes completed.
        public var tlsHandshakes: Int
        /// TLS handshakes that failed (not TLS, bad record, no shared cipher) or timed out.
        public var tlsHandshakeFailures: Int
    }

    let open = Atomic<Int>(0)
    let accepted = Atomic<Int>(0)
    let rejected = Atomic<Int>(0)
    let evicted = Atomic<Int>(0)
    let requests = Atomic<Int>(0)
    let tlsHandshakes = Atomic<Int>(0)
    let tlsHandshakeFailures = Atomic<Int>(0)
    private let errors = Locked<[Int: Int]>([:])

    public init() {}

    public var openConnections: Int { open.load(ordering: .relaxed) }

    public var snapshot: Snapshot {
        Snapshot(
            openConnections: open.load(ordering: .relaxed),
            acceptedConnections: accepted.load(ordering: .relaxed),
            rejectedConnections: rejected.load(ordering: .relaxed),
            evictedConnections: evicted.load(ordering: .relaxed),
            requestsParsed: requests.load(ordering: .relaxed),
            parseErrorsByStatus: errors.withLock { $0 },
            tlsHandshakes: tlsHandshakes.load(ordering: .relaxed),
            tlsHandshakeFailures: tlsHandshakeFailures.load(ordering: .relaxed))
    }

    func increment(_ counter: borrowing Atomic<Int>, by delta: Int = 1) {
        counter.wrappingAdd(delta, ordering: .relaxed)
    }

    func recordError(status: Int) {
        errors.withLock { $0[status, default: 0] += 1 }
    }
}
