import Synchronization

/// The clock every stream's held events leave on (see `SSEWriter`): ticks at multiples of one
/// period on the monotonic clock, the same for all streams, so the streams of a batch flush in
/// the same engine step and the event loop and the client wake once for all of them.
///
/// The period grows with the number of open streams: `interval × ⌈streams / streamsPerInterval⌉`,
/// never above `maxInterval` (unless `interval` itself is larger). Each tick costs the machine a
/// write per stream (a hand-off to the loop, a loopback send, a client wake-up: with ~20 tokens a
/// write, ~30 us of CPU per write on the loop and the load client together, against ~8 us a side
/// for one-token writes, see `SSEWriter`: most of it is the kernel's per-send work), so with a fixed period the cost of
/// delivery grew with concurrency: at 16 streams and 5 ms the loop and the client took ~12% of
/// a core, which the model's two threads (sharing it) lost. Scaling the period keeps the writes
/// to about `streamsPerInterval / interval` a second (400 with the defaults) up to the cap; a
/// stream's tokens then wait at most `maxInterval` (50 ms by default) to leave, below what a
/// reader notices, and the first token and the end never wait. (Measured at 16 streams, HTTP
/// against in-process, medians of 16 alternating rounds in two runs: a 20 ms period 0.924 and
/// 0.952, 40 ms 0.960 and 0.958; hence 2 streams per 5 ms.)
final class StreamClock: Sendable {
    /// Streams per multiple of the base interval.
    static let streamsPerInterval = 2

    let intervalNanos: UInt64
    let maxIntervalNanos: UInt64
    private let open = Atomic<Int>(0)

    /// - Parameters:
    ///   - interval: the period with up to `streamsPerInterval` streams open (seconds; 0 = no
    ///     clock: every event is written as it comes).
    ///   - maxInterval: the longest period concurrency may stretch it to (seconds).
    init(interval: Double, maxInterval: Double) {
        intervalNanos = UInt64(max(interval, 0) * 1e9)
        maxIntervalNanos = max(intervalNanos, UInt64(max(maxInterval, 0) * 1e9))
    }

    /// Streams counted now.
    var openStreams: Int { open.load(ordering: .relaxed) }

    func streamOpened() { open.wrappingAdd(1, ordering: .relaxed) }
    func streamClosed() { open.wrappingSubtract(1, ordering: .relaxed) }

    /// The current period in nanoseconds (0: no clock).
    var periodNanos: UInt64 {
        guard intervalNanos > 0 else { return 0 }
        let multiple = UInt64(max(1, (openStreams + Self.streamsPerInterval - 1) / Self.streamsPerInterval))
        return min(maxIntervalNanos, intervalNanos * multiple)
    }

    /// True once `now` is in a later tick than `last` (always without a clock).
    func isNewTick(_ now: UInt64, since last: UInt64) -> Bool {
        let period = periodNanos
        return period == 0 || now / period != last / period
    }
}
