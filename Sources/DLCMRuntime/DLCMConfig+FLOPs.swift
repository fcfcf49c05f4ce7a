/// Inference FLOPs per token from the matrix products (2 per multiply-add); attention scores are
/// left out because they depend on the context length. Mirrors `dlcm_flops_per_token` in
/// weights/recipe/model.py.
public struct FLOPsPerToken: Sendable {
    public let encoder, router, cross, decoder, lmHead, backbone: Double
    public var total: Double { encoder + router + cross + decoder + lmHead + backbone }
    /// Share of the total spent in the concept backbone (and its per-concept projections).
    public var backboneShare: Double { backbone / total }
}

extension DLCMConfig {
    static func stackMatmulParams(_ d: Int, _ s: StackConfig) -> Double {
        let hd = d / s.nHeads
        let attn = d * s.nHeads * hd * 2 + d * s.nKVHeads * hd * 2
        return Double(s.nLayers * (attn + 3 * d * s.ffnDim))
    }

    /// FLOPs per token when concepts average `tokensPerConcept` tokens.
    public func flopsPerToken(tokensPerConcept: Double) -> FLOPsPerToken {
        let d = dToken, dc = dConcept
        let pools = pooling == .meanFirst ? 2 : 1   // pool.up, and pool.first
        let perConcept = Double(pools * d * dc) + Self.stackMatmulParams(dc, backbone) + Double(2 * dc * d)
        return FLOPsPerToken(
            encoder: 2 * Self.stackMatmulParams(d, encoder),
            router: 2 * Double(2 * d * dScan),
            cross: 2 * Double(2 * d * d + 3 * d * crossFFNDim),
            decoder: 2 * Self.stackMatmulParams(d, decoder),
            lmHead: 2 * Double(d * vocabSize),
            backbone: 2 * perConcept / tokensPerConcept)
    }

    /// Bytes of weights a decode step streams when a concept closes with probability 1/tpc
    /// (embedding row excluded), at `bytesPerWeight`.
    public func weightBytesPerToken(tokensPerConcept: Double, bytesPerWeight: Double) -> Double {
        flopsPerToken(tokensPerConcept: tokensPerConcept).total / 2 * bytesPerWeight
    }

    /// Bytes a matrix weight takes in this checkpoint: 4 or 2, or for a quantized one its code
    /// plus its share of the block's f16 scale (q8_0 34 bytes per 32 weights, q4_0 18).
    public var bytesPerWeight: Double {
        switch dtype {
        case "float32": return 4
        case "q8_0": return 34.0 / 32
        case "q4_0": return 18.0 / 32
        default: return 2
        }
    }
}
