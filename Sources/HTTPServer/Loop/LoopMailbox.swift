#if canImport(Glibc)
import Locking
import Glibc
#endif
import CEpoll
import Synchronization

/// How a finished response leaves its connection.
enum ResponseEnd: Sendable, Equatable {
    case keepAlive
    case close
}

/// A connection as named from other threads: only ever dereferenced on the loop thread.
struct ConnectionRef: @unchecked Sendable {
    let connection: Connection
}

/// Work handed to the event loop.
enum LoopMessage: Sendable {
    /// Bytes for the response with number `sequence` on a connection; `end` marks its last piece.
    /// Messages for a closed connection or an older sequence are dropped on arrival.
    case output(ConnectionRef, sequence: UInt64, bytes: [UInt8], end: ResponseEnd?, streamed: Bool)
    case stopAccepting
    case stop
}

/// The cross-thread hand-off: a locked queue plus an eventfd that wakes the loop.
///
/// A post costs one uncontended lock and, only when the loop is not already due to wake, one
/// eventfd write; everything posted before the loop drains goes over in one batch. Posts made
/// on the loop thread itself (a handler answering at once) skip the eventfd: the loop drains
/// the queue after every batch of events anyway.
final class LoopMailbox: Sendable {
    private struct Queue {
        var items: [LoopMessage] = []
        var wakePending = false
        var closed = false
    }

    let eventFD: Int32
    private let queue = Locked(Queue())
    private let loopThread = Atomic<UInt>(0)
    /// Set once the server drains: responses finished after that close their connection.
    let draining = Atomic<Bool>(false)

    init() throws {
        eventFD = try syscallOrThrow("eventfd") { eventfd(0, Int32(CEPOLL_EFD_NONBLOCK | CEPOLL_EFD_CLOEXEC)) }
    }

    /// The eventfd lives as long as anyone (a responder kept by another thread) can post, so a
    /// late post can never write into a descriptor number that has been reused.
    deinit { closeDescriptor(eventFD) }

    func setLoopThread(_ thread: pthread_t) { loopThread.store(UInt(thread), ordering: .releasing) }

    var isOnLoopThread: Bool { UInt(pthread_self()) == loopThread.load(ordering: .acquiring) }

    /// Returns false when the loop has stopped and the message was dropped.
    @discardableResult
    func post(_ message: LoopMessage) -> Bool {
        let onLoop = isOnLoopThread
        let wake: Bool? = queue.withLock { q in
            if q.closed { return nil }
            q.items.append(message)
            if onLoop || q.wakePending { return false }
            q.wakePending = true
            return true
        }
        if wake == true {
            var one: UInt64 = 1
            // Cannot fail short of a bug: the counter would need 2^64-1 pending wakes.
            _ = try? syscall("write(eventfd)") { Glibc.write(eventFD, &one, 8) }
        }
        return wake != nil
    }

    /// Everything posted so far, in order.
    func takeAll() -> [LoopMessage] {
        queue.withLock { q in
            q.wakePending = false
            if q.items.isEmpty { return [] }
            let items = q.items
            q.items.removeAll(keepingCapacity: true)
            return items
        }
    }

    /// Resets the eventfd counter after it woke the loop.
    func acknowledgeWake() {
        var value: UInt64 = 0
        _ = try? syscall("read(eventfd)") { Glibc.read(eventFD, &value, 8) }
    }

    func close() {
        queue.withLock { q in
            q.closed = true
            q.items.removeAll()
        }
    }
}
