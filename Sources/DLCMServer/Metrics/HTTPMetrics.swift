import Locking
import Synchronization
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
    /// Probes answered on the event loop (`ProbeAnswers.swift`), counted without the lock and
    /// the tables: /health and /ready, each 200 or 503. They take a microsecond or two: each is
    /// a 0 s observation of its route's duration.
    private let healthOK = Atomic<UInt64>(0), healthFailed = Atomic<UInt64>(0)
    private let readyOK = Atomic<UInt64>(0), readyFailed = Atomic<UInt64>(0)

    func record(route: String, status: Int, seconds: Double) {
        state.withLock { s in
            s.requests[route, default: [:]][status, default: 0] += 1
            s.durations[route, default: Histogram(bounds: Histogram.latency)].observe(seconds)
        }
    }

    /// A probe answered on the event loop: /health (else /ready), 200 (else 503).
    func recordProbe(health: Bool, ok: Bool) {
        switch (health, ok) {
        case (true, true): healthOK.add(1, ordering: .relaxed)
        case (true, false): healthFailed.add(1, ordering: .relaxed)
        case (false, true): readyOK.add(1, ordering: .relaxed)
        case (false, false): readyFailed.add(1, ordering: .relaxed)
        }
    }

    var snapshot: Snapshot {
        var s = state.withLock { $0 }
        let probes = [("/health", 200, healthOK.load(ordering: .relaxed)), ("/health", 503, healthFailed.load(ordering: .relaxed)),
                      ("/ready", 200, readyOK.load(ordering: .relaxed)), ("/ready", 503, readyFailed.load(ordering: .relaxed))]
        for (route, status, n) in probes where n > 0 {
            s.requests[route, default: [:]][status, default: 0] += n
            s.durations[route, default: Histogram(bounds: Histogram.latency)].observe(0, times: n)
        }
        return s
    }
}
