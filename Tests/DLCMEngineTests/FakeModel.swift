import DLCMRuntime
import Foundation
import Kernels
import Locking
@testable import DLCMEngine

/// The served test fixture's directory: its tokenizer and config (vocab 320, end-of-text 0,
/// context 512) serve the engine; its weights are never stepped here.
let fixtureDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../DLCMServerTests/Resources/tiny-served").standardizedFileURL

/// A sequence of the fake model: the tokens it was fed.
final class FakeSequence: EngineSequence {
    let id: Int
    var tokens: [Int32] = []
    var concepts = 0
    init(id: Int) { self.id = id }
    var length: Int { tokens.count }
    var conceptCount: Int { concepts }
    var memoryBytes: Int { 4 * tokens.count }
    func reserve(tokens: Int) {}
    func forked() -> any EngineSequence {
        let s = FakeSequence(id: FakeModel.nextID())
        s.tokens = tokens
        s.concepts = concepts
        return s
    }
    var mark: StateMark { StateMark(length: tokens.count, concepts: concepts) }
    func captureBlock(since mark: StateMark) -> any PrefixPayload {
        FakeBlock(start: mark, tokens: Array(tokens[mark.length...]), concepts: concepts - mark.concepts)
    }
    func append(_ block: any PrefixPayload) {
        let b = block as! FakeBlock
        precondition(b.start == mark, "a block appended where it does not start")
        tokens += b.tokens
        concepts += b.concepts
    }
}

/// What a fake sequence read in a block.
final class FakeBlock: PrefixPayload {
    let start: StateMark
    let tokens: [Int32]
    let concepts: Int
    init(start: StateMark, tokens: [Int32], concepts: Int) { self.start = start; self.tokens = tokens; self.concepts = concepts }
    var bytes: Int { 1000 }
}

/// A scripted model: after a sequence of length L its logits make `next(L)` the only likely token
/// (greedy sampling picks it), and a token at position L starts a concept when `boundary(L)`.
/// Every pass is recorded; `failPass` makes that pass (1-based) throw.
final class FakeModel: EngineModel {
    struct Item: Equatable {
        let sequence: Int
        let tokens: [Int32]
    }

    static let ids = Locked(0)
    static func nextID() -> Int { ids.withLock { $0 += 1; return $0 } }

    let vocab: Int
    let next: @Sendable (Int) -> Int32
    let boundary: @Sendable (Int) -> Bool
    let failPass: Int?
    /// The passes, each as its items (sequence id, tokens fed).
    let passes = Locked<[[Item]]>([])

    init(vocab: Int = 320, failPass: Int? = nil, boundary: @escaping @Sendable (Int) -> Bool = { $0 % 3 == 0 },
         next: @escaping @Sendable (Int) -> Int32 = { Int32(10 + $0 % 50) }) {
        self.vocab = vocab; self.failPass = failPass; self.boundary = boundary; self.next = next
    }

    var pool: ThreadPool? { nil }

    func makeSequence() -> any EngineSequence { FakeSequence(id: FakeModel.nextID()) }

    struct Failure: Error, CustomStringConvertible { var description: String { "the fake model failed" } }

    func step(_ items: [EngineBatchItem], overlapping: @escaping () -> Void) throws -> [ForwardOutput] {
        overlapping()
        let count = passes.withLock { p -> Int in
            p.append(items.map { Item(sequence: ($0.sequence as! FakeSequence).id, tokens: $0.tokens) })
            return p.count
        }
        if count == failPass { throw Failure() }
        return items.map { item in
            let s = item.sequence as! FakeSequence
            var logits: [[Float]] = [], probs: [Float] = [], cuts: [Bool] = []
            var closed = 0
            for t in item.tokens {
                let position = s.tokens.count
                s.tokens.append(t)
                let starts = position == 0 || boundary(position)
                if starts && position > 0 { closed += 1; s.concepts += 1 }
                probs.append(starts ? 0.9 : 0.1)
                cuts.append(starts)
                logits.append(oneHot(next(s.tokens.count)))
            }
            return ForwardOutput(logits: item.allLogits ? logits : [logits.last!], boundaryProbs: probs, boundaries: cuts, conceptsClosed: closed)
        }
    }

    func oneHot(_ token: Int32) -> [Float] {
        var l = [Float](repeating: 0, count: vocab)
        l[Int(token)] = 50
        return l
    }

    /// The passes in which sequence `id` took part, with what it was fed.
    func fed(_ id: Int) -> [[Int32]] {
        passes.withLock { $0.compactMap { pass in pass.first { $0.sequence == id }?.tokens } }
    }
}

/// Greedy picking (temperature 0) of at most `maxTokens` tokens: the scripted model's one likely
/// token each time.
func greedy(_ maxTokens: Int) -> GenerationParameters {
    var p = GenerationParameters()
    p.maxTokens = maxTokens
    p.sampling.temperature = 0
    return p
}

/// Events of requests, collected across the engine thread.
final class EventLog: @unchecked Sendable {
    private let events = Locked<[Int: [EngineEvent]]>([:])
    func add(_ i: Int, _ e: EngineEvent) { events.withLock { $0[i, default: []].append(e) } }
    subscript(i: Int) -> [EngineEvent] { events.withLock { $0[i] ?? [] } }
    func finished(_ i: Int) -> Bool {
        self[i].contains { if case .finished = $0 { return true }; if case .failed = $0 { return true }; return false }
    }
    func tokens(_ i: Int) -> [Int32] { self[i].compactMap { if case .token(let t) = $0 { return t.token.token }; return nil } }
}

/// Polls until `condition` holds or 10 s pass.
func waitFor(_ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(10)
    while !condition() {
        if Date() > deadline { return false }
        usleep(1_000)
    }
    return true
}
