#if canImport(Glibc)
import Glibc
#endif

/// The one clock of the package: CLOCK_MONOTONIC, unaffected by changes to the wall clock.
/// Deadlines, timeouts, latencies and benchmarks all read it, so their times compare.
@inline(__always)
public func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// `monotonicNanoseconds()` in seconds, for benchmarks.
@inline(__always)
public func monotonicSeconds() -> Double {
    Double(monotonicNanoseconds()) * 1e-9
}
