import Foundation
import Testing
@testable import DLCMRuntime

/// `score(document:rule:rng:)` against the recipe's ablate.py (eval-vectors.json, written by
/// `make_vectors.py eval`): the same nats, tokens and concepts under every boundary rule, on
/// documents shorter and longer than the context.
@Suite struct EvalParityTests {
    struct Vectors: Decodable {
        struct Case: Decodable { let rule: String; let seed: UInt64; let nats: [Double]; let tokens: [Int]; let concepts: [Int] }
        let documents: [[Int32]]
        let cases: [Case]
    }

    @Test func everyRuleMatchesTheReference() throws {
        let dir = Fixtures.directory("tiny-replicated")
        let model = try DLCMModel.load(directory: dir, threads: 1)
        let v = try JSONDecoder().decode(Vectors.self, from: Data(contentsOf: dir.appendingPathComponent("eval-vectors.json")))
        #expect(v.documents.contains { $0.count > model.config.maxSeqLen }, "a document must span several windows")
        for c in v.cases {
            let rule = try BoundaryRule(parsing: c.rule)
            var rng = SplitMix64(seed: c.seed)
            for (i, doc) in v.documents.enumerated() {
                let s = try model.score(document: doc, rule: rule, rng: &rng)
                #expect(s.tokens == c.tokens[i])
                #expect(s.concepts == c.concepts[i], "\(c.rule) document \(i)")
                #expect(abs(s.nats - c.nats[i]) <= 1e-4 * max(1, c.nats[i]), "\(c.rule) document \(i): \(s.nats) vs \(c.nats[i])")
            }
        }
    }

    /// Token by token (decode's path) scores what one pass over the window scores, for every rule
    /// and across windows.
    @Test func incrementalScoringMatchesOnePass() throws {
        let model = try DLCMModel.load(directory: Fixtures.directory("tiny-replicated"), threads: 1)
        let doc: [Int32] = [0] + (1..<(model.config.maxSeqLen + 40)).map { Int32(($0 * 37) % 95 + 1) }
        for rule in [BoundaryRule.learned, .none, .stride(3), .random(0.3)] {
            var a = SplitMix64(seed: 5), b = SplitMix64(seed: 5)
            let whole = try model.score(document: doc, rule: rule, rng: &a)
            let steps = try model.score(document: doc, rule: rule, rng: &b, incremental: true)
            #expect(whole.tokens == steps.tokens && whole.concepts == steps.concepts, "\(rule)")
            #expect(abs(whole.nats - steps.nats) <= 1e-4 * whole.nats, "\(rule): \(whole.nats) vs \(steps.nats)")
        }
    }

    @Test func rulesChangeWhereConceptsStart() throws {
        let model = try DLCMModel.load(directory: Fixtures.directory("tiny-replicated"), threads: 1)
        let doc: [Int32] = [0] + (1..<60).map { Int32(($0 * 37) % 95 + 1) }
        var rng = SplitMix64(seed: 1)
        let none = try model.score(document: doc, rule: .none, rng: &rng)
        let every = try model.score(document: doc, rule: .stride(1), rng: &rng)
        let learned = try model.score(document: doc, rule: .learned, rng: &rng)
        #expect(none.concepts == 2)
        #expect(every.concepts == doc.count)
        #expect(none.nats != every.nats && learned.nats != none.nats)
    }

    @Test func windowsOverlapByOneAndCoverEveryToken() {
        #expect(DLCMModel.windows(count: 0, context: 4).isEmpty)
        #expect(DLCMModel.windows(count: 3, context: 4) == [0..<3])
        #expect(DLCMModel.windows(count: 4, context: 4) == [0..<4])
        #expect(DLCMModel.windows(count: 5, context: 4) == [0..<4, 3..<5])
        #expect(DLCMModel.windows(count: 10, context: 4) == [0..<4, 3..<7, 6..<10])
    }

    @Test func parsingRulesAndRefusingBadOnes() throws {
        #expect(try BoundaryRule(parsing: "learned") == .learned)
        #expect(try BoundaryRule(parsing: "stride:4") == .stride(4))
        #expect(try BoundaryRule(parsing: "stride:3.5") == .stride(3.5))
        #expect(BoundaryRule.stride(4).description == "stride:4" && BoundaryRule.stride(3.5).description == "stride:3.5")
        var rng = SplitMix64(seed: 0)
        let starts = BoundaryRule.stride(3.5).starts(count: 20, rng: &rng)!
        #expect(starts.indices.filter { starts[$0] } == [0, 4, 7, 11, 14, 18])
        #expect(BoundaryRule.stride(4).starts(count: 50, rng: &rng)! == (0..<50).map { $0 % 4 == 0 })
        #expect(try BoundaryRule(parsing: "random:0.25") == .random(0.25))
        #expect(try BoundaryRule(parsing: "none") == .none)
        for bad in ["", "stride", "stride:0", "stride:0.5", "stride:-2", "stride:x", "stride:nan", "stride:inf", "random:1.5", "random:-0.1", "random", "sometimes", "none:1"] {
            #expect(throws: ModelError.self, "\(bad)") { try BoundaryRule(parsing: bad) }
        }
    }

    @Test func splitMix64MatchesItsPublishedSequence() {
        // First outputs for seed 0 (the reference implementation's).
        var g = SplitMix64(seed: 0)
        #expect(g.next() == 0xE220_A839_7B1D_CDAF)
        #expect(g.next() == 0x6E78_9E6A_A1B9_65F4)
    }

    @Test func forcedBoundariesOfTheWrongLengthAreRefused() throws {
        let model = try DLCMModel.load(directory: Fixtures.directory("tiny-replicated"), threads: 1)
        #expect(throws: ModelError.self) {
            try model.forward([BatchItem(sequence: model.newSequence(), tokens: [0, 1, 2], boundaries: [true])])
        }
    }
}
