/// A cumulative-bucket histogram in the Prometheus sense: counts per upper bound, sum and count.
public struct Histogram: Sendable {
    public let bounds: [Double]
    /// counts[i] = observations <= bounds[i] (not cumulative here; the exposition sums them).
    public private(set) var counts: [UInt64]
    public private(set) var sum: Double = 0
    public private(set) var count: UInt64 = 0

    public init(bounds: [Double]) {
        self.bounds = bounds
        counts = [UInt64](repeating: 0, count: bounds.count)
    }

    public mutating func observe(_ value: Double, times: UInt64 = 1) {
        sum += value * Double(times)
        count += times
        if let i = bounds.firstIndex(where: { value <= $0 }) { counts[i] += times }
    }

    /// Seconds from 0.5 ms to 60 s.
    public static let latency: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
}
