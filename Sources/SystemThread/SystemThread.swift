#if canImport(Glibc)
import Glibc
#endif

/// What a dedicated thread runs: the event loop, the engine, a compute worker.
public protocol ThreadMain: AnyObject {
    func threadMain()
}

public struct ThreadStartError: Error, CustomStringConvertible {
    /// pthread_create's error number.
    public let errno: Int32
    public var description: String { "pthread_create failed (errno \(errno))" }
}

/// Starts a pthread that runs `body.threadMain()`, holding a reference to `body` until it
/// returns. The package's one thread starter: the entry point is a plain C function here, since a
/// closure formed in main-actor code and handed to pthread_create crashes the new thread when
/// built with Swift 6 on Linux.
/// - Parameter stackSize: bytes of stack (nil: the system's default).
public func startThread(_ body: any ThreadMain, stackSize: Int? = nil) throws(ThreadStartError) -> pthread_t {
    final class Box { let body: any ThreadMain; init(_ b: any ThreadMain) { body = b } }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    if let stackSize { pthread_attr_setstacksize(&attributes, stackSize) }
    var thread = pthread_t()
    let rc = pthread_create(&thread, &attributes, { context in
        let box = Unmanaged<Box>.fromOpaque(context!).takeRetainedValue()
        box.body.threadMain()
        return nil
    }, context)
    guard rc == 0 else {
        Unmanaged<Box>.fromOpaque(context).release()
        throw ThreadStartError(errno: rc)
    }
    return thread
}
