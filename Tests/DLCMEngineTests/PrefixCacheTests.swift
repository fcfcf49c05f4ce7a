import DLCMRuntime
import Foundation
import Testing
@testable import DLCMEngine

/// The prefix cache's bookkeeping (PrefixCache.swift), without a model: chains, scopes, the byte
/// budget and least-recently-used eviction of blocks nothing continues.
@Suite struct PrefixCacheTests {
    final class Payload: PrefixPayload {
        let bytes: Int
        init(_ bytes: Int) { self.bytes = bytes }
    }

    func add(_ c: PrefixCache, _ scope: String, after parent: Int?, _ tokens: [Int32], bytes: Int = 1000) -> Int? {
        c.insert(scope: scope, after: parent, tokens: tokens[...], payload: Payload(bytes),
                 probs: tokens.map { _ in 0.5 }, boundaries: tokens.map { _ in false })
    }

    @Test func chainsAreFoundOnlyAfterTheSameTokens() throws {
        let c = PrefixCache(capacityBytes: 1 << 20, blockTokens: 2)
        let a = try #require(add(c, "", after: nil, [1, 2]))
        let b = try #require(add(c, "", after: a, [3, 4]))
        _ = try #require(add(c, "", after: b, [5, 6]))
        #expect(c.match(scope: "", prompt: [1, 2, 3, 4, 5, 6, 7], limit: 6).count == 3)
        #expect(c.match(scope: "", prompt: [1, 2, 3, 4, 5, 6], limit: 5).count == 2)   // within the limit only
        #expect(c.match(scope: "", prompt: [1, 2, 9, 4, 5, 6, 7], limit: 6).count == 1)
        #expect(c.match(scope: "", prompt: [3, 4, 5, 6, 7], limit: 4).isEmpty)          // a block is found only after its parent
        #expect(c.match(scope: "other", prompt: [1, 2, 3, 4, 5], limit: 4).isEmpty)     // nor in another scope
        #expect(add(c, "", after: a, [3, 4]) == b)                                       // the same block twice is one
        #expect(c.statistics.entries == 3)
    }

    @Test func leastRecentlyUsedLeavesGoFirstAndTheBudgetHolds() throws {
        let perBlock = PrefixCache.Entry(id: 0, key: .init(parent: 0, tokens: [1, 2]), root: -1, payload: Payload(1000),
                                         probs: [0, 0], boundaries: [false, false]).bytes
        let c = PrefixCache(capacityBytes: 3 * perBlock, blockTokens: 2)
        let a = try #require(add(c, "", after: nil, [1, 2]))
        let b = try #require(add(c, "", after: a, [3, 4]))
        let x = try #require(add(c, "", after: nil, [7, 8]))
        _ = c.match(scope: "", prompt: [1, 2, 3, 4, 0], limit: 4)   // a, b used after x
        // Full: the least recently used block without children is x (a has a child).
        let d = try #require(add(c, "", after: b, [5, 6]))
        #expect(!c.contains(x) && c.contains(a) && c.contains(b) && c.contains(d))
        #expect(c.statistics.evictions == 1 && c.statistics.bytes <= c.capacityBytes)
        // A chain is evicted from its end: the leaf d, then b, and never the block being continued.
        let e = try #require(add(c, "s", after: nil, [9, 9]))
        #expect(!c.contains(d) && c.contains(b))
        _ = try #require(add(c, "s", after: e, [9, 8]))
        #expect(!c.contains(b) && c.contains(a) && c.contains(e))
        #expect(c.statistics.entries == 3 && c.statistics.bytes == 3 * perBlock)
        // A block whose parent is gone is not kept; nor one larger than the whole budget.
        #expect(add(c, "", after: b, [5, 6]) == nil)
        #expect(add(c, "", after: nil, [4, 4], bytes: 10 * perBlock) == nil)
        #expect(c.statistics.bytes <= c.capacityBytes)
    }

    /// Segmented LRU: a block another request resumed from survives a flood of blocks nobody
    /// reuses (plain LRU would evict it first: it is the oldest); protection holds at most the
    /// protected share of the budget, beyond which the least recently used protected block
    /// becomes evictable again.
    @Test func aReusedPrefixOutlivesAFloodOfPromptsSeenOnce() throws {
        let perBlock = PrefixCache.Entry(id: 0, key: .init(parent: 0, tokens: [1, 2]), root: -1, payload: Payload(1000),
                                         probs: [0, 0], boundaries: [false, false]).bytes
        let c = PrefixCache(capacityBytes: 5 * perBlock, blockTokens: 2)
        let system = try #require(add(c, "", after: nil, [1, 2]))
        c.reused(c.match(scope: "", prompt: [1, 2, 7], limit: 2))
        #expect(c.statistics.protectedBytes == perBlock)
        for k in 0..<12 { _ = add(c, "", after: nil, [Int32(50 + k), 0]) }
        #expect(c.contains(system))
        #expect(c.statistics.entries == 5 && c.statistics.bytes <= c.capacityBytes)
        // Protect every block: only 4 of 5 (80%) stay protected, the oldest goes back.
        let held = (0..<12).compactMap { k in c.match(scope: "", prompt: [Int32(50 + k), 0, 9], limit: 2).first }
        c.reused(held)
        #expect(c.statistics.protectedBytes == 4 * perBlock)
        let before = Set(held.map(\.id) + [system])
        _ = add(c, "", after: nil, [99, 99])
        // The one block that lost its protection (the least recently used) was evicted.
        #expect(before.filter { c.contains($0) }.count == 4)
        #expect(c.contains(held.last!.id))
    }

    @Test func offKeepsNothing() {
        let c = PrefixCache(capacityBytes: 0, blockTokens: 2)
        #expect(add(c, "", after: nil, [1, 2]) == nil)
        #expect(c.statistics == PrefixCache.Statistics())
    }
}

/// The engine with the prefix cache, driven by the scripted model: what a request resumes, what
/// it still reads, and what it reports.
@Suite struct PrefixCacheEngineTests {
    func start(_ model: FakeModel, chunk: Int = 4, cacheBytes: Int = 1 << 20, step: Double = 0) throws -> Engine {
        try FakeModelEngineTests().start(model, .init(prefillChunk: chunk, minimumStepSeconds: step, prefixCacheBytes: cacheBytes))
    }

    func request(_ log: EventLog, _ i: Int, _ prompt: [Int32], scope: String? = "", maxTokens: Int = 3,
                 promptLogprobs: Int? = nil) -> EngineRequest {
        EngineRequest(prompt: prompt, parameters: greedy(maxTokens), promptLogprobs: promptLogprobs, cacheScope: scope) { log.add(i, $0) }
    }

    func stats(_ log: EventLog, _ i: Int) -> GenerationStats? {
        for e in log[i] { if case .finished(_, _, let s) = e { return s } }
        return nil
    }

    func promptResult(_ log: EventLog, _ i: Int) -> PromptResult? {
        for e in log[i] { if case .prompt(let p) = e { return p } }
        return nil
    }

    /// Sequence ids in order of their first pass.
    func sequences(_ model: FakeModel) -> [Int] {
        var seen: [Int] = []
        for pass in model.passes.withLock({ $0 }) { for item in pass where !seen.contains(item.sequence) { seen.append(item.sequence) } }
        return seen
    }

    func run(_ engine: Engine, _ log: EventLog, _ i: Int, _ r: EngineRequest) throws {
        try engine.submit([r])
        #expect(waitFor { log.finished(i) })
    }

    /// A prompt that shares whole cells with an earlier one reads only the rest; it reports them
    /// as cached and the same segmentation as a cold read.
    @Test func aRepeatedPrefixIsResumedNotRead() throws {
        let model = FakeModel()
        let engine = try start(model)
        defer { engine.stop() }
        let log = EventLog()
        let first: [Int32] = [0] + (1...12).map { Int32($0) }      // 13 tokens: cells of 4, 4, 4, 1
        let second: [Int32] = Array(first[..<10]) + [40, 41, 42]   // shares 10: two whole cells
        try run(engine, log, 0, request(log, 0, first))
        try run(engine, log, 1, request(log, 1, second))
        let ids = sequences(model)
        #expect(model.fed(ids[0]).prefix(4) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12]])
        #expect(model.fed(ids[1]).first == [8, 9, 40, 41])          // resumed at 8, read from there on the grid
        #expect(stats(log, 1)?.cachedTokens == 8 && stats(log, 0)?.cachedTokens == 0)
        // The same prompt again: everything but the last cell (the last token is always read).
        try run(engine, log, 2, request(log, 2, first))
        #expect(model.fed(sequences(model)[2]).first == [12])
        #expect(stats(log, 2)?.cachedTokens == 12)
        #expect(promptResult(log, 2)?.boundaries == promptResult(log, 0)?.boundaries)
        #expect(promptResult(log, 2)?.boundaryProbs == promptResult(log, 0)?.boundaryProbs)
        #expect(log.tokens(2) == log.tokens(0))
        let m = engine.metrics.snapshot
        #expect(m.prefixCacheQueriedTokens == 13 + 13 + 13 && m.prefixCacheHitTokens == 8 + 12)
        #expect(m.prefixCacheEntries == 3 + 1 && m.prefixCacheBytes > 0)   // cells of the first prompt and [8, 9, 40, 41]
    }

    /// Scopes never share, a request without a scope neither reuses nor adds, and one that wants
    /// every prompt token's log-probabilities reads them all (it still adds its cells).
    @Test func scopesAndOptOuts() throws {
        let model = FakeModel()
        let engine = try start(model)
        defer { engine.stop() }
        let log = EventLog()
        let prompt: [Int32] = [0] + (1...9).map { Int32($0) }
        try run(engine, log, 0, request(log, 0, prompt, scope: "tenant-a"))
        try run(engine, log, 1, request(log, 1, prompt, scope: "tenant-b"))
        try run(engine, log, 2, request(log, 2, prompt, scope: nil))
        try run(engine, log, 3, request(log, 3, prompt, scope: "tenant-a", promptLogprobs: 1))
        try run(engine, log, 4, request(log, 4, prompt, scope: "tenant-a"))
        #expect((0...3).map { stats(log, $0)?.cachedTokens } == [0, 0, 0, 0])
        #expect(stats(log, 4)?.cachedTokens == 8)
        let ids = sequences(model)
        for i in 0...3 { #expect(model.fed(ids[i]).first == [0, 1, 2, 3]) }
        #expect(engine.metrics.snapshot.prefixCacheEntries == 4)   // two cells each for scopes a and b
        // Only the requests that could resume looked: not the one without a scope, nor the one
        // that reads every prompt token for its log-probabilities.
        #expect(engine.metrics.snapshot.prefixCacheQueriedTokens == 3 * 10)
    }

    /// Requests with the same prompt that arrive together read each shared cell once: the later
    /// one waits a step and resumes from the block the first added.
    @Test func requestsArrivingTogetherReadTheSharedPrefixOnce() throws {
        let model = FakeModel()
        let engine = try start(model, step: 0.002)
        defer { engine.stop() }
        let log = EventLog()
        let prompt: [Int32] = [0] + (1...14).map { Int32($0) }   // cells 4, 4, 4, 3
        // Two submissions (one with n = 2 would fork): the same step or the next, each cell is read once.
        try engine.submit([request(log, 0, prompt)])
        try engine.submit([request(log, 1, prompt)])
        #expect(waitFor { log.finished(0) && log.finished(1) })
        let fed = sequences(model).map { model.fed($0) }
        let promptTokensRead = fed.map { $0.filter { $0.count > 1 || $0 == [14] }.reduce(0) { $0 + $1.count } }
        #expect(promptTokensRead.reduce(0, +) == 15 + 3)   // the cells once, the last cell (with the last token) twice
        #expect(stats(log, 1)?.cachedTokens == 12)
        #expect(log.tokens(0) == log.tokens(1))
    }

    /// A request that asks for it (`cacheAnswer`, a chat turn) has its prompt and answer read
    /// into the cache after it ends, so the next turn, whose prompt repeats the answer, resumes
    /// after it. A request that does not ask leaves only its prompt's cells.
    @Test func anAnswerIsCachedForTheNextTurn() throws {
        let model = FakeModel()
        let engine = try start(model)
        defer { engine.stop() }
        let log = EventLog()
        let prompt: [Int32] = [0] + (1...5).map { Int32($0) }   // 6 tokens: one whole cell
        let turn = EngineRequest(prompt: prompt, parameters: greedy(7), cacheScope: "", cacheAnswer: true) { log.add(0, $0) }
        try run(engine, log, 0, turn)
        let answer = log.tokens(0)
        #expect(answer.count == 7)
        // 13 tokens: three whole cells, read again as a prompt once the turn has ended.
        #expect(waitFor { engine.metrics.snapshot.prefixCacheEntries == 3 })
        let fill = sequences(model)[1]
        #expect(model.fed(fill) == [Array((prompt + answer)[4..<8]), Array((prompt + answer)[8..<12])])   // the first cell resumed
        let next = prompt + answer + [90, 91, 92]
        try run(engine, log, 1, request(log, 1, next))
        #expect(stats(log, 1)?.cachedTokens == 12)
        #expect(engine.metrics.snapshot.finished == 2)   // the fill is not a request
        #expect(engine.metrics.snapshot.prefixCacheQueriedTokens == 6 + 16 && engine.metrics.snapshot.prefixCacheHitTokens == 12)
        #expect(engine.metrics.snapshot.prefixCacheEntries == 4)   // and the new turn's last whole cell
        // Without cacheAnswer: only the prompt's cells.
        let other: [Int32] = [0] + (60...65).map { Int32($0) }
        try run(engine, log, 2, request(log, 2, other, maxTokens: 9))
        #expect(engine.metrics.snapshot.prefixCacheEntries == 4 + 1)
    }

    /// An answer is read into the cache only when nothing else runs or waits: while another
    /// request decodes, the fill waits (and is reported pending).
    @Test func answerFillsWaitForAnIdleEngine() throws {
        let model = FakeModel()
        let engine = try start(model, step: 0.002)
        defer { engine.stop() }
        let log = EventLog()
        let prompt: [Int32] = [0] + (1...5).map { Int32($0) }
        try engine.submit([EngineRequest(prompt: prompt, parameters: greedy(7), cacheScope: "", cacheAnswer: true) { log.add(0, $0) }])
        try engine.submit([request(log, 1, [0, 50, 51], maxTokens: 60)])
        #expect(waitFor { log.finished(0) })
        #expect(!log.finished(1))
        #expect(waitFor { engine.metrics.snapshot.pendingAnswerFills == 1 })
        #expect(sequences(model).count == 2)   // no third sequence (the fill) while the other decodes
        #expect(waitFor { log.finished(1) && engine.metrics.snapshot.pendingAnswerFills == 0 })
        #expect(sequences(model).count == 3)
        #expect(engine.metrics.snapshot.prefixCacheEntries == 3)
    }

    /// A small budget under a stream of different long prompts: blocks come and go, the budget
    /// holds, every request completes.
    @Test func evictionUnderLoad() throws {
        let model = FakeModel()
        let perBlock = 1000 + 4 * 4 + 5 * 4 + 256
        let engine = try start(model, cacheBytes: 5 * perBlock)
        defer { engine.stop() }
        let log = EventLog()
        var rng = SystemRandomNumberGenerator()
        let bases: [[Int32]] = (0..<3).map { b in [0] + (0..<12).map { Int32(20 + b * 30 + $0) } }
        for round in 0..<4 {
            let batch = (0..<6).map { k -> EngineRequest in
                let i = round * 6 + k
                let tail = (0..<Int.random(in: 1...9, using: &rng)).map { _ in Int32.random(in: 1...300, using: &rng) }
                return request(log, i, bases[Int.random(in: 0..<3, using: &rng)] + tail)
            }
            for r in batch { try engine.submit([r]) }
            #expect(waitFor { (0..<((round + 1) * 6)).allSatisfy { log.finished($0) } })
            #expect(engine.metrics.snapshot.prefixCacheBytes <= 5 * perBlock)
        }
        let m = engine.metrics.snapshot
        #expect(m.prefixCacheEvictions > 0 && m.prefixCacheHitTokens > 0)
        for i in 0..<24 { #expect(log.tokens(i).count == 3) }
    }
}
