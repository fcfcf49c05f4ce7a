import Foundation
import Kernels

/// Picks tokens for one sequence: logit bias, penalties, temperature, top-k, top-p, min-p, then a
/// draw from its own seeded generator. Keeps the token counts the penalties need.
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var rng: Xoshiro256
    /// Occurrences of each token in the generated output (presence/frequency penalties).
    private var outputCounts: [Int32: Int] = [:]
    /// Tokens of the prompt and the output (repetition penalty).
    private var seen: Set<Int32> = []

    public init(_ parameters: SamplingParameters, prompt: [Int32] = []) {
        self.parameters = parameters
        rng = Xoshiro256(seed: parameters.seed ?? UInt64.random(in: 0...UInt64.max))
        if parameters.repetitionPenalty != 1 { seen = Set(prompt) }
    }

    /// Records a token the sequence emitted (also when the caller forced it).
    public mutating func accept(_ token: Int32) {
        outputCounts[token, default: 0] += 1
        if parameters.repetitionPenalty != 1 { seen.insert(token) }
    }

    /// Chooses the next token from raw logits (vocab). Does not call `accept`. `allowed`, when
    /// given, is a bitset over the vocabulary (bit `id & 63` of word `id >> 6`) of the only tokens
    /// that may be chosen (a constrained output's grammar); it applies before temperature, top-k,
    /// top-p and min-p, so those see the allowed tokens' distribution. It must allow at least one.
    public mutating func sample(_ raw: [Float], allowed: [UInt64]? = nil) -> Int32 {
        let p = parameters
        var logits = raw
        for (t, b) in p.logitBias { logits[Int(t)] += b }
        if let allowed { Self.mask(&logits, allowed: allowed) }
        if p.repetitionPenalty != 1 {
            for t in seen {
                let v = logits[Int(t)]
                logits[Int(t)] = v > 0 ? v / p.repetitionPenalty : v * p.repetitionPenalty
            }
        }
        if p.presencePenalty != 0 || p.frequencyPenalty != 0 {
            for (t, n) in outputCounts { logits[Int(t)] -= p.presencePenalty + p.frequencyPenalty * Float(n) }
        }
        if p.temperature == 0 { return argmax(logits) }

        // Unnormalised probabilities e^((l - max) / T) of the whole vocabulary in one vector pass;
        // the most likely token has weight 1, so min-p is a plain threshold on the weights.
        let maxLogit = logits[Int(argmax(logits))]
        var weights = [Float](repeating: 0, count: logits.count)
        var total = logits.withUnsafeBufferPointer { l in
            weights.withUnsafeMutableBufferPointer { w in
                expScaled(w.baseAddress!, l.baseAddress!, count: l.count, shift: maxLogit, scale: 1 / p.temperature)
            }
        }
        if p.minP > 0 {
            total = 0
            for i in weights.indices {
                if weights[i] < p.minP { weights[i] = 0 } else { total += weights[i] }
            }
        }
        guard p.topK > 0 || p.topP < 1 else {
            // No ordering needed: draw over the vocabulary in index order.
            return Int32(Self.draw(weights, u: rng.nextUnit() * total))
        }
        let (candidates, kept) = nucleus(weights, total: total)
        var u = rng.nextUnit() * kept
        for t in candidates {
            u -= weights[Int(t)]
            if u < 0 { return t }
        }
        return candidates[candidates.count - 1]
    }

    /// Sets every logit outside `allowed` to -infinity (a word at a time: most words of a grammar's
    /// mask are all-allowed or all-refused).
    static func mask(_ logits: inout [Float], allowed: [UInt64]) {
        logits.withUnsafeMutableBufferPointer { l in
            let n = l.count
            for w in 0..<((n + 63) / 64) {
                let bits = w < allowed.count ? allowed[w] : 0
                if bits == .max { continue }
                let end = min(n, w * 64 + 64)
                for i in (w * 64)..<end where bits & (1 << UInt64(i - w * 64)) == 0 { l[i] = -.infinity }
            }
        }
    }

    /// The first index whose running weight passes `u` (`u` in [0, total)); zero weights are
    /// never chosen. A block of 256 at a time (its sum in one vector pass), then one walk inside
    /// the block: a token-by-token walk over an 8k vocabulary cost ~6 us a token.
    static func draw(_ weights: [Float], u: Float) -> Int {
        weights.withUnsafeBufferPointer { w in
            let n = w.count, block = 256
            var u = u, start = 0
            while start + block <= n {
                var acc = SIMD16<Float>()
                for j in Swift.stride(from: start, to: start + block, by: 16) {
                    acc += UnsafeRawPointer(w.baseAddress! + j).loadUnaligned(as: SIMD16<Float>.self)
                }
                let sum = acc.sum()
                if u < sum { break }
                u -= sum
                start += block
            }
            var last = -1
            for i in start..<n where w[i] > 0 {
                u -= w[i]
                last = i
                if u < 0 { return i }
            }
            // Rounding left u just above the sum: the last token with weight (found backwards if
            // the walk started past it).
            if last >= 0 { return last }
            return (0..<n).last { w[$0] > 0 } ?? 0
        }
    }

    /// The top-k / top-p candidates, most likely first (ties: lower id first), and their weight.
    /// Sorting all 8k+ tokens per step would cost more than a decode step; only the head of the
    /// distribution can be in the set, so take tokens above a weight cut, lowering the cut until
    /// they hold k tokens and p of the mass, and sort just those.
    func nucleus(_ weights: [Float], total: Float) -> (candidates: [Int32], weight: Float) {
        let p = parameters
        var cut: Float = 1e-2
        var head: [Int32] = []
        while true {
            head.removeAll(keepingCapacity: true)
            var mass: Float = 0
            for i in weights.indices where weights[i] > 0 && weights[i] >= cut {
                head.append(Int32(i))
                mass += weights[i]
            }
            let everything = cut == 0
            if everything || ((p.topK == 0 || head.count >= p.topK) && (p.topP >= 1 || mass >= p.topP * total)) { break }
            cut = cut > 1e-6 ? cut * 1e-2 : 0
        }
        head.sort { weights[Int($0)] > weights[Int($1)] || (weights[Int($0)] == weights[Int($1)] && $0 < $1) }
        if p.topK > 0 && head.count > p.topK { head.removeLast(head.count - p.topK) }
        var kept: Float = 0
        if p.topP < 1 {
            // The smallest prefix holding p of the (top-k) mass.
            let mass = p.topK > 0 ? head.reduce(Float(0)) { $0 + weights[Int($1)] } : total
            var keep = head.count
            for (i, t) in head.enumerated() {
                kept += weights[Int(t)]
                if kept >= p.topP * mass { keep = i + 1; break }
            }
            head.removeLast(head.count - keep)
        } else {
            kept = head.reduce(Float(0)) { $0 + weights[Int($1)] }
        }
        return (head, kept)
    }
}

/// Index of the largest value (the first on ties).
public func argmax(_ x: [Float]) -> Int32 {
    x.withUnsafeBufferPointer { Int32(max(0, Kernels.argmax($0.baseAddress!, count: $0.count))) }
}

/// log-softmax of raw logits, the chosen token's log-probability and the n most likely tokens
/// (OpenAI `logprobs`), computed on the model's distribution before any sampling transform.
public struct TokenLogprobs: Sendable, Equatable {
    public let token: Int32
    public let logprob: Float
    public let top: [(token: Int32, logprob: Float)]

    public static func == (a: TokenLogprobs, b: TokenLogprobs) -> Bool {
        a.token == b.token && a.logprob == b.logprob && a.top.map(\.token) == b.top.map(\.token)
    }

    public init(logits: [Float], token: Int32, top n: Int) {
        var m = -Float.infinity
        for v in logits where v > m { m = v }
        var sum: Float = 0
        for v in logits { sum += expf(v - m) }
        let logZ = m + logf(sum)
        self.token = token
        logprob = logits[Int(token)] - logZ
        if n > 0 {
            var best = [(token: Int32, logprob: Float)]()
            for (i, v) in logits.enumerated() {
                if best.count < n || v > best[best.count - 1].logprob + logZ {
                    best.append((Int32(i), v - logZ))
                    best.sort { $0.logprob > $1.logprob }
                    if best.count > n { best.removeLast() }
                }
            }
            top = best
        } else {
            top = []
        }
    }
}
