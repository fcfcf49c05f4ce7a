import Foundation

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

    /// Chooses the next token from raw logits (vocab). Does not call `accept`.
    public mutating func sample(_ raw: [Float]) -> Int32 {
        var logits = raw
        let p = parameters
        for (t, b) in p.logitBias { logits[Int(t)] += b }
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

        // Candidates in descending order of logit; a full sort only when top-k/top-p need order.
        var maxLogit = -Float.infinity
        for v in logits where v > maxLogit { maxLogit = v }
        let invT = 1 / p.temperature
        var candidates: [Int32]
        let floor = p.minP > 0 ? logf(p.minP) * p.temperature : -Float.infinity   // min-p in logit space
        candidates = (0..<Int32(logits.count)).filter { logits[Int($0)] - maxLogit >= floor && logits[Int($0)] > -Float.infinity }
        if p.topK > 0 || p.topP < 1 {
            candidates.sort { logits[Int($0)] > logits[Int($1)] || (logits[Int($0)] == logits[Int($1)] && $0 < $1) }
            if p.topK > 0 && candidates.count > p.topK { candidates.removeLast(candidates.count - p.topK) }
        }
        var weights = candidates.map { expf((logits[Int($0)] - maxLogit) * invT) }
        if p.topP < 1 {
            let total = weights.reduce(0, +)
            var acc: Float = 0
            var keep = weights.count
            for (i, w) in weights.enumerated() {
                acc += w
                if acc >= p.topP * total { keep = i + 1; break }
            }
            weights.removeLast(weights.count - keep)
            candidates.removeLast(candidates.count - keep)
        }
        let total = weights.reduce(0, +)
        var u = rng.nextUnit() * total
        for (i, w) in weights.enumerated() {
            u -= w
            if u < 0 { return candidates[i] }
        }
        return candidates[candidates.count - 1]
    }
}

/// Index of the largest value (the first on ties).
public func argmax(_ x: [Float]) -> Int32 {
    var best = 0
    for i in x.indices where x[i] > x[best] { best = i }
    return Int32(best)
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
