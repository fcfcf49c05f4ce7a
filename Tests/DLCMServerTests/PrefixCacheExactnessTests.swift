import DLCMEngine
import DLCMRuntime
import Foundation
import Locking
import Testing

/// The prefix cache changes no bit of any result: a prompt B read after a prompt A that shares
/// its start (so B resumes from A's cached cells) gets the same boundary probabilities,
/// boundaries, sampled tokens and log-probabilities as B read cold. The shared part ends on every
/// kind of spot: inside a concept, exactly where one starts, one token before one starts; and the
/// grid is small enough that a prompt spans many cells (8: the matrix form of attention; 5: the
/// row loop). Real models: the served fixture and the shipped checkpoint (windowed encoder and
/// decoder).
@Suite(.serialized) struct PrefixCacheExactnessTests {
    static let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("weights/dlcm-10m-debian")

    struct Outcome: Equatable {
        var probs: [Float] = []
        var boundaries: [Bool] = []
        var tokens: [Int32] = []
        /// Each generated token's log-probability and its top 5, as bit patterns.
        var logprobs: [[UInt32]] = []
        var cached = 0
    }

    /// Runs one request to its end and returns what it reported.
    static func run(_ engine: Engine, _ prompt: [Int32], scope: String?, seed: UInt64) throws -> Outcome {
        var p = GenerationParameters()
        p.maxTokens = 8
        p.sampling.temperature = 0.9
        p.sampling.seed = seed
        p.logprobs = 5
        let box = Locked(Outcome()), done = DispatchSemaphore(value: 0)
        let request = EngineRequest(prompt: prompt, parameters: p, cacheScope: scope) { e in
            switch e {
            case .prompt(let r): box.withLock { $0.probs = r.boundaryProbs; $0.boundaries = r.boundaries }
            case .token(let t):
                box.withLock { o in
                    o.tokens.append(t.token.token)
                    let lp = t.token.logprobs
                    o.logprobs.append([lp?.logprob.bitPattern ?? 0] + (lp?.top.map { $0.logprob.bitPattern } ?? []))
                }
            case .finished(_, _, let stats): box.withLock { $0.cached = stats.cachedTokens }; done.signal()
            case .failed: done.signal()
            case .waiting: break
            }
        }
        try engine.submit([request])
        #expect(done.wait(timeout: .now() + 60) == .success)
        return box.withLock { $0 }
    }

    enum Spot: CaseIterable { case insideConcept, atBoundary, oneBeforeBoundary }

    @Test(arguments: ["fixture", "shipped"], [8, 5])
    func resumedPromptsMatchColdReads(model: String, grid: Int) throws {
        let bundle = try ModelBundle(directory: model == "shipped" ? Self.shipped : fixtureDirectory, threads: 2)
        let engine = Engine(bundle: bundle, configuration: EngineConfiguration(prefillChunk: grid, prefixCacheBytes: 64 << 20))
        try engine.start()
        defer { engine.stop() }
        var rng = SplitMix64(seed: UInt64(grid) &* 7919 &+ UInt64(model.count))
        let vocab = UInt64(bundle.model.config.vocabSize), bos = Int32(bundle.model.config.eotTokenID)
        func token() -> Int32 { Int32(1 + rng.next() % (vocab - 1)) }
        var covered = Set<String>()
        for trial in 0..<24 {
            let n = 30 + Int(rng.next() % 90)
            let b = [bos] + (1..<n).map { _ in token() }
            let cold = try Self.run(engine, b, scope: nil, seed: UInt64(trial))
            #expect(cold.cached == 0)
            // Grid spots within B's reusable part, by where concepts start around them.
            let spot = Spot.allCases[trial % 3]
            let spots = stride(from: grid, through: n - 2, by: grid).filter { p in
                switch spot {
                case .insideConcept: !cold.boundaries[p] && !cold.boundaries[p + 1]
                case .atBoundary: cold.boundaries[p]
                case .oneBeforeBoundary: !cold.boundaries[p] && cold.boundaries[p + 1]
                }
            }
            guard !spots.isEmpty else { continue }
            let p = spots[Int(rng.next() % UInt64(spots.count))]
            covered.insert("\(spot)")
            // A shares B's first `shared` tokens (p, or a few more that do not fill the next cell).
            let shared = p + Int(rng.next() % UInt64(min(grid, n - 1 - p)))
            var a = Array(b[..<shared]) + (0..<(1 + Int(rng.next() % 20))).map { _ in token() }
            if a[shared] == b[shared] { a[shared] = a[shared] % Int32(vocab - 1) + 1 }
            let scope = "trial \(trial)"
            _ = try Self.run(engine, a, scope: scope, seed: 99)
            let warm = try Self.run(engine, b, scope: scope, seed: UInt64(trial))
            #expect(warm.cached == p, "trial \(trial): shared \(shared), grid spot \(p)")
            var expected = cold
            expected.cached = p
            let same = warm == expected
            #expect(same, "trial \(trial) (\(spot)): n \(n), shared \(shared), resumed at \(p)")
        }
        #expect(covered.count == 3, "spots covered: \(covered)")
    }
}

/// A conversation's next turn: its prompt repeats the previous prompt and the answer the model
/// gave. The answer was cached as a prompt after the turn ended (`cacheAnswer`), so the next turn
/// resumes after it, and still gets exactly what a cold read gives.
@Suite(.serialized) struct ConversationCacheTests {
    @Test(arguments: ["fixture", "shipped"])
    func theNextTurnResumesAfterTheAnswerBitForBit(model: String) throws {
        let bundle = try ModelBundle(directory: model == "shipped" ? PrefixCacheExactnessTests.shipped : fixtureDirectory, threads: 2)
        let grid = 8
        let engine = Engine(bundle: bundle, configuration: EngineConfiguration(prefillChunk: grid, prefixCacheBytes: 64 << 20))
        try engine.start()
        defer { engine.stop() }
        var rng = SplitMix64(seed: UInt64(model.count))
        let vocab = UInt64(bundle.model.config.vocabSize), bos = Int32(bundle.model.config.eotTokenID)
        for trial in 0..<6 {
            let first = [bos] + (0..<(20 + Int(rng.next() % 40))).map { _ in Int32(1 + rng.next() % (vocab - 1)) }
            // The first turn, its answer kept: 30 tokens, whatever they are (no end of text).
            var p = GenerationParameters()
            p.maxTokens = 30
            p.ignoreEOS = true
            p.sampling.seed = UInt64(trial)
            let answer = Locked<[Int32]>([]), done = DispatchSemaphore(value: 0)
            let scope = "conversation \(trial)"
            try engine.submit([EngineRequest(prompt: first, parameters: p, cacheScope: scope, cacheAnswer: true) { e in
                if case .token(let t) = e { answer.withLock { $0.append(t.token.token) } }
                if case .finished = e { done.signal() }
            }])
            #expect(done.wait(timeout: .now() + 60) == .success)
            let next = first + answer.withLock { $0 } + (0..<(3 + Int(rng.next() % 10))).map { _ in Int32(1 + rng.next() % (vocab - 1)) }
            let cold = try PrefixCacheExactnessTests.run(engine, next, scope: nil, seed: 7)
            // The answer is read into the cache when the engine is idle (after the cold read);
            // a next turn that came before would resume less: wait until it has been.
            let whole = (first.count + 30) / grid * grid
            #expect(engineWait { engine.metrics.snapshot.pendingAnswerFills == 0 })
            let warm = try PrefixCacheExactnessTests.run(engine, next, scope: scope, seed: 7)
            #expect(warm.cached == whole, "trial \(trial): \(first.count) + 30 tokens")
            var expected = cold
            expected.cached = whole
            let same = warm == expected
            #expect(same, "trial \(trial)")
        }
    }
}
