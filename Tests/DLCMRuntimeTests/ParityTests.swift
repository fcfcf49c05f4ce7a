import Foundation
import Testing
@testable import DLCMRuntime

/// The Swift runtime against the PyTorch reference (weights/recipe/model.py): logits within 1e-4
/// at every position, the same p, b and segment count, the same greedy continuation.
@Suite struct ParityTests {
    static let modes = ["tiny-replicated", "tiny-unique", "tiny-windowed", "tiny-first"]

    @Test(arguments: modes)
    func prefillMatchesReferenceAtEveryPosition(fixture: String) throws {
        let dir = Fixtures.directory(fixture)
        let model = try DLCMModel.load(directory: dir, threads: 1)
        let vectors = try ReferenceVectors.load(dir.appendingPathComponent("vectors.json"))
        for c in vectors.cases {
            let seq = model.newSequence()
            let out = try model.forward([BatchItem(sequence: seq, tokens: c.prompt, allLogits: true)])[0]
            #expect(out.boundaries.map { $0 ? 1 : 0 } == c.b)
            #expect(maxAbsDiff(out.boundaryProbs, c.p) < 1e-5)
            #expect(seq.conceptCount + 1 == c.segments)
            for (k, pos) in c.logitPositions.enumerated() {
                let diff = maxAbsDiff(out.logits[pos], c.logits[k])
                #expect(diff < 1e-4, "\(fixture) prompt of \(c.prompt.count): position \(pos) differs by \(diff)")
            }
        }
    }

    @Test(arguments: modes)
    func stepsMatchReferenceGreedyContinuation(fixture: String) throws {
        let dir = Fixtures.directory(fixture)
        let model = try DLCMModel.load(directory: dir, threads: 1)
        let vectors = try ReferenceVectors.load(dir.appendingPathComponent("vectors.json"))
        for c in vectors.cases {
            let seq = model.newSequence()
            var logits = try model.forward([BatchItem(sequence: seq, tokens: c.prompt)])[0].logits[0]
            var generated = [Int32](), probs = [Float](), flags = [Int]()
            for _ in c.greedy {
                let next = argmax(logits)
                generated.append(next)
                let out = try model.forward([BatchItem(sequence: seq, tokens: [next])])[0]
                logits = out.logits[0]
                probs.append(out.boundaryProbs[0]); flags.append(out.boundaries[0] ? 1 : 0)
            }
            #expect(generated == c.greedy, "\(fixture) prompt of \(c.prompt.count)")
            #expect(flags == c.greedyB)
            #expect(maxAbsDiff(probs, c.greedyP) < 1e-5)
            #expect(seq.conceptCount + 1 == c.segmentsAfterGreedy)
        }
    }

    /// Prefill in chunks of any size, then single steps, equals one prefill of everything.
    @Test(arguments: [1, 3, 16])
    func chunkedPrefillEqualsOnePrefill(chunk: Int) throws {
        let dir = Fixtures.directory("tiny-replicated")
        let model = try DLCMModel.load(directory: dir, threads: 1)
        let c = try ReferenceVectors.load(dir.appendingPathComponent("vectors.json")).cases.last!
        let tokens = c.prompt + c.greedy
        let whole = try model.forward([BatchItem(sequence: model.newSequence(), tokens: tokens, allLogits: true)])[0]
        let seq = model.newSequence()
        var logits = [[Float]](), flags = [Bool]()
        var i = 0
        while i < tokens.count {
            let piece = Array(tokens[i..<min(i + chunk, tokens.count)])
            let out = try model.forward([BatchItem(sequence: seq, tokens: piece, allLogits: true)])[0]
            logits += out.logits; flags += out.boundaries
            i += chunk
        }
        #expect(flags == whole.boundaries)
        for k in tokens.indices { #expect(maxAbsDiff(logits[k], whole.logits[k]) < 1e-4) }
    }

    /// A batch of sequences at different lengths, stepped together, equals stepping each alone;
    /// with two threads too.
    @Test(arguments: [1, 2])
    func batchedStepsEqualSingleSteps(threads: Int) throws {
        let dir = Fixtures.directory("tiny-unique")
        let model = try DLCMModel.load(directory: dir, threads: threads)
        let cases = try ReferenceVectors.load(dir.appendingPathComponent("vectors.json")).cases
        let seqs = cases.map { _ in model.newSequence() }
        // Mixed pass: every prompt prefilled in one batch.
        let first = try model.forward(zip(seqs, cases).map { BatchItem(sequence: $0, tokens: $1.prompt) })
        var next = first.map { argmax($0.logits[0]) }
        for step in 0..<12 {
            let outs = try model.forward(zip(seqs, next).map { BatchItem(sequence: $0, tokens: [$1]) })
            for (k, c) in cases.enumerated() {
                #expect(next[k] == c.greedy[step], "sequence \(k) step \(step)")
                #expect(outs[k].boundaries[0] == (c.greedyB[step] == 1))
            }
            next = outs.map { argmax($0.logits[0]) }
        }
    }

    /// A batch big enough to be split over lanes (one part per thread, DLCMModel.forward) gives
    /// what one pass on one thread gives: 19 sequences at different lengths, steps of one token and
    /// of three, one with a prompt chunk among them, in both attention modes. Equal up to float rounding, not bit for bit: a part with
    /// at most 2 rows for a matrix (4 for a concept-level one: new concepts) takes the matvec kernel, which sums in
    /// another order than the batched one.
    @Test(arguments: modes)
    func laneSplitStepsMatchOneThread(fixture: String) throws {
        let dir = Fixtures.directory(fixture)
        let one = try DLCMModel.load(directory: dir, threads: 1)
        let two = try DLCMModel.load(directory: dir, threads: 2)
        let cases = try ReferenceVectors.load(dir.appendingPathComponent("vectors.json")).cases
        let prompts = (0..<19).map { i in Array(cases[i % cases.count].prompt.prefix(3 + i % 7)) }
        let seqs1 = prompts.map { _ in one.newSequence() }, seqs2 = prompts.map { _ in two.newSequence() }
        // The prefill is one mixed pass (not split: items of more than 4 tokens).
        var outs1 = try one.forward(zip(seqs1, prompts).map { BatchItem(sequence: $0, tokens: $1) })
        var outs2 = try two.forward(zip(seqs2, prompts).map { BatchItem(sequence: $0, tokens: $1) })
        for step in 0..<10 {
            // Steps of one token, of three, and one where sequence 5 reads a 6-token chunk (a
            // prompt arriving) beside the others' single tokens.
            let width = step % 4 == 3 ? 3 : 1
            let next = outs1.enumerated().map { k, o in (0..<(step == 5 && k == 5 ? 6 : width)).map { j in (argmax(o.logits[0]) + Int32(k + j)) % 64 } }
            outs1 = try one.forward(zip(seqs1, next).map { BatchItem(sequence: $0, tokens: $1) })
            outs2 = try two.forward(zip(seqs2, next).map { BatchItem(sequence: $0, tokens: $1) })
            #expect(outs1.count == outs2.count)
            for (a, b) in zip(outs1, outs2) {
                #expect(a.logits.count == b.logits.count)
                for (x, y) in zip(a.logits, b.logits) { #expect(maxAbsDiff(x, y) < 1e-5, "step \(step)") }
                #expect(a.boundaries == b.boundaries && a.boundaryProbs == b.boundaryProbs)
                #expect(a.conceptsClosed == b.conceptsClosed)
            }
        }
        #expect(zip(seqs1, seqs2).allSatisfy { $0.length == $1.length && $0.conceptCount == $1.conceptCount })
    }

    @Test func contextLimitIsAnErrorNotACrash() throws {
        let model = try DLCMModel.load(directory: Fixtures.directory("tiny-unique"), threads: 1)
        let seq = model.newSequence()
        let limit = model.config.maxSeqLen
        _ = try model.forward([BatchItem(sequence: seq, tokens: [Int32](repeating: 5, count: limit - 1))])
        #expect(throws: ModelError.contextLengthExceeded(limit: limit, requested: limit + 1)) {
            try model.forward([BatchItem(sequence: seq, tokens: [1, 2])])
        }
        // The failed call left the sequence usable.
        _ = try model.forward([BatchItem(sequence: seq, tokens: [7])])
        #expect(seq.length == limit)
    }

    @Test func badInputsAreErrors() throws {
        let model = try DLCMModel.load(directory: Fixtures.directory("tiny-unique"), threads: 1)
        let seq = model.newSequence()
        #expect(throws: ModelError.invalidToken(96)) { try model.forward([BatchItem(sequence: seq, tokens: [96])]) }
        #expect(throws: ModelError.invalidToken(-1)) { try model.forward([BatchItem(sequence: seq, tokens: [-1])]) }
        #expect(throws: ModelError.self) { try model.forward([]) }
        #expect(throws: ModelError.self) { try model.forward([BatchItem(sequence: seq, tokens: [])]) }
        #expect(throws: ModelError.self) {
            try model.forward([BatchItem(sequence: seq, tokens: [1]), BatchItem(sequence: seq, tokens: [2])])
        }
        #expect(seq.length == 0)
    }
}
