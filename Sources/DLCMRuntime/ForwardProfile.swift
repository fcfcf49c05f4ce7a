import MonotonicTime
#if canImport(Glibc)
import Glibc
#endif

/// Wall time per stage accumulated over passes (for `dlcm bench`): a handful of clock reads per
/// pass, nothing per token.
public struct ForwardProfile: Sendable {
    public enum Stage: Int, CaseIterable, Sendable {
        case encoder, router, backbone, cross, decoder, head
        public var name: String { String(describing: self) }
    }
    public private(set) var nanoseconds = [UInt64](repeating: 0, count: Stage.allCases.count)
    public private(set) var passes = 0
    public private(set) var tokens = 0
    public private(set) var concepts = 0

    public init() {}

    mutating func add(_ stage: Stage, since start: UInt64) -> UInt64 {
        let now = monotonicNanoseconds()
        nanoseconds[stage.rawValue] += now - start
        return now
    }

    mutating func count(tokens t: Int, concepts c: Int) {
        passes += 1; tokens += t; concepts += c
    }

    /// Both profiles' times and counts summed.
    func adding(_ other: ForwardProfile) -> ForwardProfile {
        var sum = self
        for i in sum.nanoseconds.indices { sum.nanoseconds[i] += other.nanoseconds[i] }
        sum.passes += other.passes; sum.tokens += other.tokens; sum.concepts += other.concepts
        return sum
    }

    public func seconds(_ stage: Stage) -> Double { Double(nanoseconds[stage.rawValue]) / 1e9 }
    public var totalSeconds: Double { Double(nanoseconds.reduce(0, +)) / 1e9 }
}

