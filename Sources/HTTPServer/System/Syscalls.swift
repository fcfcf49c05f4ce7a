#if canImport(Glibc)
import Glibc
#endif
import CEpoll

/// A failed system call, with the errno it left behind.
public struct SyscallError: Error, Equatable, CustomStringConvertible {
    public let function: String
    public let errno: Int32

    public var description: String {
        "\(function) failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// The outcome of a call on a non-blocking descriptor.
enum IOResult<T> {
    case done(T)
    case wouldBlock
}

/// The one wrapper every system call goes through, so that no call site forgets a case:
/// EINTR is retried, EAGAIN/EWOULDBLOCK become `.wouldBlock`, anything else is thrown.
/// `body` returns the raw result; a negative value means failure with `errno` set.
@inline(__always)
func syscall<T: FixedWidthInteger>(
    _ function: StaticString, _ body: () -> T
) throws(SyscallError) -> IOResult<T> {
    while true {
        let result = body()
        if result >= 0 { return .done(result) }
        let code = Glibc.errno
        if code == EINTR { continue }
        if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
        throw SyscallError(function: "\(function)", errno: code)
    }
}

/// Like `syscall` for calls on blocking descriptors or ones that cannot would-block:
/// `.wouldBlock` there would be a bug, so it is thrown like any other error.
@inline(__always)
func syscallOrThrow<T: FixedWidthInteger>(
    _ function: StaticString, _ body: () -> T
) throws(SyscallError) -> T {
    switch try syscall(function, body) {
    case .done(let value): return value
    case .wouldBlock: throw SyscallError(function: "\(function)", errno: EAGAIN)
    }
}

/// close(2) is the exception: on Linux the descriptor is released even when close reports
/// EINTR, so retrying could close a descriptor another thread has just been given.
func closeDescriptor(_ fd: Int32) {
    if fd >= 0 { _ = Glibc.close(fd) }
}
