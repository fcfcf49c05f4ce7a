// One pthread-mutex wrapper shared by the HTTP layer, the engine and the API layer (which must
// not depend on each other for it).

#if canImport(Glibc)
import Glibc
#endif

/// A value guarded by a pthread mutex. Sendable whatever the value, like Synchronization.Mutex:
/// the value is only reached inside withLock.
///
/// Used rather than Synchronization.Mutex because ThreadSanitizer sees through pthread mutexes:
/// with Mutex it reports races between two critical sections of the same lock (its futex path
/// is not instrumented), which would drown real reports.
public final class Locked<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always)
    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
