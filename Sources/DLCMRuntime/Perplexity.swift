import Foundation

/// What scoring a document gave: the sums a perplexity report is made of.
public struct PerplexityScore: Equatable, Sendable {
    /// Sum of -log p(token | prefix) over the scored tokens, in nats.
    public var nats: Double = 0
    /// Tokens scored (every token after the document's first).
    public var tokens = 0
    /// Segments started, over all windows (an open last segment counts).
    public var concepts = 0
    /// Token positions read, over all windows (a window's first token included).
    public var positions = 0

    public init() {}

    public var natsPerToken: Double { nats / Double(max(tokens, 1)) }
    public var tokensPerConcept: Double { Double(positions) / Double(max(concepts, 1)) }

    public static func + (a: PerplexityScore, b: PerplexityScore) -> PerplexityScore {
        var s = a
        s.nats += b.nats; s.tokens += b.tokens; s.concepts += b.concepts; s.positions += b.positions
        return s
    }
}

extension DLCMModel {
    /// Windows of at most `context` tokens overlapping by one, so that every token after the
    /// first is predicted exactly once (each window from a fresh sequence).
    public static func windows(count: Int, context: Int) -> [Range<Int>] {
        precondition(context >= 2)
        guard count > 0 else { return [] }
        var out = [Range<Int>](), start = 0
        while true {
            let end = min(start + context, count)
            out.append(start..<end)
            if end == count { return out }
            start += context - 1
        }
    }

    /// Scores a document (its tokens, BOS first) as a language model: windows of the model's
    /// context (`windows`), boundaries from `rule` (forced ones drawn from `rng`, in window order).
    ///
    /// - Parameter incremental: feed each window one token per pass, as decode does, instead of
    ///   in one pass: the same numbers up to summation order, except where decode computes
    ///   differently (int8 products of quantized weights, `QuantizedProducts`).
    public func score(document tokens: [Int32], rule: BoundaryRule, rng: inout SplitMix64,
                      incremental: Bool = false) throws -> PerplexityScore {
        var total = PerplexityScore()
        guard tokens.count >= 2 else { return total }
        for range in Self.windows(count: tokens.count, context: config.maxSeqLen) {
            let window = Array(tokens[range])
            let starts = rule.starts(count: window.count, rng: &rng)
            var logits: [[Float]] = [], boundaries: [Bool] = []
            if incremental {
                let sequence = newSequence()
                for (i, token) in window.enumerated() {
                    let out = try forward([BatchItem(sequence: sequence, tokens: [token], boundaries: starts.map { [$0[i]] })])[0]
                    logits.append(out.logits[0])
                    boundaries += out.boundaries
                }
            } else {
                let out = try forward([BatchItem(sequence: newSequence(), tokens: window, allLogits: true, boundaries: starts)])[0]
                (logits, boundaries) = (out.logits, out.boundaries)
            }
            for i in 0..<(window.count - 1) {
                total.nats += negativeLogLikelihood(logits[i], target: Int(window[i + 1]))
            }
            total.tokens += window.count - 1
            total.positions += window.count
            total.concepts += boundaries.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        return total
    }
}

/// -log softmax(logits)[target], accumulated in Double.
func negativeLogLikelihood(_ logits: [Float], target: Int) -> Double {
    let m = logits.max() ?? 0
    var sum = 0.0
    for v in logits { sum += exp(Double(v - m)) }
    return log(sum) + Double(m) - Double(logits[target])
}
