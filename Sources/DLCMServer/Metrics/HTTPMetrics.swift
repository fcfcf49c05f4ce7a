import Locking
import DLCMEngine
import DLCMRuntime

/// Requests by route template and status, and their durations. Labels are route templates,
/// never raw URLs, so the label set stays bounded.
final class HTTPMetrics: Sendable {
    struct Snapshot {
        var requests: [String: [Int: UInt64]] = [:]
        var durations: [String: Histogram] = [:]
    }

    private let state = Locked(Snapshot())

    func record(route: String, status: Int, seconds: Double) {
        state.withLock { s in
            s.requests[route, default: [:]][status, default: 0] += 1
            s.durations[route, default: Histogram(bounds: Histogram.latency)].observe(seconds)
        }
    }

    var snapshot: Snapshot { state.withLock { $0 } }
}
