/// Where concepts start when the router's decisions are overridden, for ablations (`dlcm eval`):
/// if forcing boundaries elsewhere does not hurt, the router is not doing its job; if forcing
/// none does not hurt, the concepts carry nothing.
public enum BoundaryRule: Equatable, CustomStringConvertible, Sendable {
    /// The router decides (p >= threshold): normal inference.
    case learned
    /// A concept starts at every k-th token of a window (positions 0, k, 2k, ...). A fractional k
    /// cuts where floor(i / k) steps up: a regular pattern at exactly 1/k per token (k = 3.5: 0, 4,
    /// 7, 11, ...), so a router can be compared with a stride at its own rate, not a rounded one.
    case stride(Double)
    /// A concept starts at each token with this probability (draws from `SplitMix64`).
    case random(Double)
    /// The first token is a concept of its own and no other boundary fires: the backbone only
    /// ever sees that one concept.
    case none

    /// Parses `learned`, `stride:K` (K >= 1, whole or fractional), `random:RATE` (0...1) or `none`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        switch (parts.first, parts.count) {
        case ("learned", 1): self = .learned
        case ("none", 1): self = .none
        case ("stride", 2):
            guard let k = Double(parts[1]), k.isFinite, k >= 1 else { throw ModelError.invalidArgument("stride:K needs a K >= 1, not \(parts[1])") }
            self = .stride(k)
        case ("random", 2):
            guard let r = Double(parts[1]), r >= 0, r <= 1 else { throw ModelError.invalidArgument("random:RATE needs a RATE in 0...1, not \(parts[1])") }
            self = .random(r)
        default:
            throw ModelError.invalidArgument("boundaries must be learned, stride:K, random:RATE or none, not \(text)")
        }
    }

    public var description: String {
        switch self {
        case .learned: return "learned"
        case .stride(let k): return k == k.rounded() ? "stride:\(Int(k))" : "stride:\(k)"
        case .random(let r): return "random:\(r)"
        case .none: return "none"
        }
    }

    /// Segment starts for a window of `count` tokens that begins a sequence, or nil for `learned`.
    /// `random` takes one draw from `rng` per position after the first, in order.
    public func starts(count: Int, rng: inout SplitMix64) -> [Bool]? {
        switch self {
        case .learned: return nil
        case .stride(let k):
            // The recipe's ablate.py computes the same floor(Double(i) / k) (IEEE division on both sides).
            return (0..<count).map { $0 == 0 || (Double($0) / k).rounded(.down) != (Double($0 - 1) / k).rounded(.down) }
        case .none: return (0..<count).map { $0 < 2 }
        case .random(let rate): return (0..<count).map { $0 == 0 || rng.uniform() < rate }
        }
    }
}

/// SplitMix64 (Steele, Lea and Flood): a tiny seeded generator whose sequence the recipe's
/// `ablate.py` reproduces, so both sides force the same random boundaries.
public struct SplitMix64: Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) from the top 53 bits.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }
}
