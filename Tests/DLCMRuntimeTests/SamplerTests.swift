import Foundation
import Testing
@testable import DLCMRuntime

/// Each sampling control changes the draw the way its definition says.
@Suite struct SamplerTests {
    let logits: [Float] = [2.0, 1.0, 0.5, 0.0, -1.0, 3.0]   // argmax = 5, then 0, 1, 2, 3, 4

    func draws(_ p: SamplingParameters, _ n: Int = 2000, logits: [Float]? = nil) -> [Int32: Int] {
        var s = Sampler(p)
        var counts = [Int32: Int]()
        for _ in 0..<n { counts[s.sample(logits ?? self.logits), default: 0] += 1 }
        return counts
    }

    @Test func greedyIsArgmax() {
        var p = SamplingParameters(); p.temperature = 0
        #expect(draws(p, 50) == [5: 50])
    }

    @Test func sameSeedSameDraws() {
        var p = SamplingParameters(); p.seed = 42
        var a = Sampler(p), b = Sampler(p)
        let x = (0..<100).map { _ in a.sample(logits) }, y = (0..<100).map { _ in b.sample(logits) }
        #expect(x == y)
        p.seed = 43
        var c = Sampler(p)
        #expect((0..<100).map { _ in c.sample(logits) } != x)
    }

    @Test func temperatureOneFollowsSoftmax() {
        var p = SamplingParameters(); p.seed = 1
        let n = 20000
        let counts = draws(p, n)
        let z = logits.map { expf($0) }.reduce(0, +)
        for (i, l) in logits.enumerated() {
            let expected = expf(l) / z
            #expect(abs(Double(counts[Int32(i), default: 0]) / Double(n) - Double(expected)) < 0.015)
        }
    }

    /// The blocked draw picks what a token-by-token walk picks. Weights and draws are multiples
    /// of 1/8 and sums stay small, so both orders of summing are exact and must agree; vocabularies
    /// that are not multiples of the block, zero weights (never picked), u at 0 and at the top.
    @Test func blockedDrawEqualsTheWalk() {
        var rng = SystemRandomNumberGenerator()
        func walk(_ w: [Float], _ u: Float) -> Int {
            var u = u, last = 0
            for i in w.indices where w[i] > 0 { u -= w[i]; last = i; if u < 0 { return i } }
            return last
        }
        for n in [1, 7, 255, 256, 257, 1000, 8192] {
            for zeros in [0.0, 0.5, 0.98] {
                let w: [Float] = (0..<n).map { _ in Double.random(in: 0..<1, using: &rng) < zeros ? 0 : Float(Int.random(in: 1...16, using: &rng)) / 8 }
                let total = w.reduce(0, +)
                guard total > 0 else { continue }
                var us: [Float] = [0, total - 0.0625]
                for _ in 0..<200 { us.append(Float(Int.random(in: 0..<Int(total * 16), using: &rng)) / 16 + 0.03125) }
                for u in us where u < total {
                    let i = Sampler.draw(w, u: u)
                    #expect(i == walk(w, u), "n \(n) u \(u)")
                    #expect(w[i] > 0)
                }
            }
        }
    }

    @Test func topKKeepsOnlyK() {
        var p = SamplingParameters(); p.topK = 2; p.seed = 2
        #expect(Set(draws(p).keys) == [5, 0])
    }

    @Test func topPKeepsTheSmallestNucleus() {
        // softmax: token 5 ~0.61, token 0 ~0.22: top_p 0.7 needs both, 0.5 only token 5.
        var p = SamplingParameters(); p.seed = 3; p.topP = 0.7
        #expect(Set(draws(p).keys) == [5, 0])
        p.topP = 0.5
        #expect(Set(draws(p).keys) == [5])
    }

    @Test func nucleusOverAVocabularyMatchesAFullSort() {
        // The cut-and-sort-the-head search must pick exactly what sorting all tokens picks, on
        // flat and peaked distributions over a real vocabulary size, with ties.
        var rng = Xoshiro256(seed: 17)
        for trial in 0..<40 {
            let spread: Float = [0.3, 2, 8][trial % 3]
            var logits = (0..<8192).map { _ in Float(rng.nextUnit()) * spread * 4 - spread * 2 }
            logits[100] = logits[200]   // a tie
            var p = SamplingParameters()
            p.temperature = [0.5, 1, 1.5][trial % 3]
            p.topK = [0, 1, 40, 5000][trial % 4]
            p.topP = [1, 0.95, 0.5, 0.99, 0.3][trial % 5]
            if p.topK == 0 && p.topP == 1 { p.topP = 0.9 }
            let m = logits.max()!
            let weights = logits.map { expf(($0 - m) / p.temperature) }
            var order = Array(Int32(0)..<8192)
            order.sort { weights[Int($0)] > weights[Int($1)] || (weights[Int($0)] == weights[Int($1)] && $0 < $1) }
            if p.topK > 0 { order = Array(order.prefix(p.topK)) }
            if p.topP < 1 {
                let mass = order.reduce(Float(0)) { $0 + weights[Int($1)] }
                var acc: Float = 0, keep = order.count
                for (i, t) in order.enumerated() { acc += weights[Int(t)]; if acc >= p.topP * mass { keep = i + 1; break } }
                order = Array(order.prefix(keep))
            }
            let fast = Sampler(p).nucleus(weights, total: weights.reduce(0, +)).candidates
            // Sums in another order may move the p boundary by a token at most.
            #expect(abs(fast.count - order.count) <= 1, "trial \(trial): \(fast.count) vs \(order.count)")
            #expect(Array(fast.prefix(min(fast.count, order.count))) == Array(order.prefix(min(fast.count, order.count))), "trial \(trial)")
        }
    }

    @Test func minPDropsUnlikelyTokens() {
        // p(token)/p(top) = e^(l - 3): token 0 0.37, token 1 0.14, token 2 0.08.
        var p = SamplingParameters(); p.seed = 4; p.minP = 0.1
        #expect(Set(draws(p).keys) == [5, 0, 1])
    }

    @Test func logitBiasCanForceOrBanATokens() {
        var p = SamplingParameters(); p.temperature = 0; p.logitBias = [4: 100]
        #expect(draws(p, 10) == [4: 10])
        p.logitBias = [5: -100]
        #expect(draws(p, 10) == [0: 10])
    }

    @Test func penaltiesDiscourageRepeats() {
        var p = SamplingParameters(); p.temperature = 0; p.frequencyPenalty = 2
        var s = Sampler(p)
        // Token 5 leads token 0 by 1.0: after one use a frequency penalty of 2 flips the choice.
        #expect(s.sample(logits) == 5); s.accept(5)
        #expect(s.sample(logits) == 0)
        var q = SamplingParameters(); q.temperature = 0; q.repetitionPenalty = 2
        var r = Sampler(q, prompt: [5])
        // 3.0 / 2 = 1.5 < 2.0: the prompt's token 5 loses to token 0.
        #expect(r.sample(logits) == 0)
        var pp = SamplingParameters(); pp.temperature = 0; pp.presencePenalty = 1.5
        var t = Sampler(pp)
        t.accept(5)
        #expect(t.sample(logits) == 0)
    }

    @Test func outOfRangeParametersAreNamed() {
        func message(_ edit: (inout SamplingParameters) -> Void) -> String {
            var p = SamplingParameters(); edit(&p)
            do { try p.validate(vocabSize: 6); return "" } catch { return "\(error)" }
        }
        #expect(message { $0.temperature = -1 }.hasPrefix("temperature"))
        #expect(message { $0.topP = 0 }.hasPrefix("top_p"))
        #expect(message { $0.topK = -3 }.hasPrefix("top_k"))
        #expect(message { $0.minP = 2 }.hasPrefix("min_p"))
        #expect(message { $0.logitBias = [6: 1] }.hasPrefix("logit_bias"))
        #expect(message { $0.presencePenalty = 5 }.hasPrefix("presence_penalty"))
        #expect(message { _ in }.isEmpty)
    }

    @Test func logprobsAreTheModelDistribution() {
        let lp = TokenLogprobs(logits: logits, token: 0, top: 2)
        let z = logf(logits.map { expf($0) }.reduce(0, +))
        #expect(abs(lp.logprob - (2.0 - z)) < 1e-5)
        #expect(lp.top.map(\.token) == [5, 0])
    }
}
