import Foundation
import Kernels
import Testing
@testable import DLCMRuntime

/// A sequence brought to position P by appending blocks captured from another sequence (one that
/// read the same first P tokens and then something else) continues exactly as one that read the
/// P tokens itself: same logits, boundary probabilities and boundaries, bit for bit. Both read in
/// the same chunks (a grid of `chunk` tokens), the way the engine's prefix cache reuses states.
@Suite struct StateBlockTests {
    static let models = ["tiny-windowed", "tiny-replicated", "tiny-unique", "tiny-first", "shipped"]

    static func load(_ name: String, threads: Int, kvCache: CacheElement = .standard) throws -> DLCMModel {
        let dir = name == "shipped" ? ShippedModelTests.directory : Fixtures.directory(name)
        return try DLCMModel.load(directory: dir, threads: threads, kvCache: kvCache)
    }

    struct Read: Equatable {
        var logits: [[Float]] = []
        var probs: [Float] = []
        var boundaries: [Bool] = []
    }

    /// Reads `tokens` from the sequence's position on, in chunks that end on multiples of `chunk`.
    static func read(_ m: DLCMModel, _ s: SequenceState, _ tokens: ArraySlice<Int32>, chunk: Int,
                     blocks: inout [StateBlock]) throws -> Read {
        var out = Read()
        var at = tokens.startIndex
        while at < tokens.endIndex {
            let end = min(tokens.endIndex, (at / chunk + 1) * chunk)
            let mark = s.mark
            let o = try m.forward([BatchItem(sequence: s, tokens: Array(tokens[at..<end]), allLogits: true)])[0]
            out.logits += o.logits; out.probs += o.boundaryProbs; out.boundaries += o.boundaries
            if end % chunk == 0 { blocks.append(s.captureBlock(since: mark)) }
            at = end
        }
        return out
    }

    @Test(arguments: models, [(4, 1), (16, 2), (5, 1)])
    func resumedSequenceMatchesOneThatReadThePrefix(model: String, grid: (chunk: Int, threads: Int)) throws {
        let m = try Self.load(model, threads: grid.threads)
        var rng = SplitMix64(seed: UInt64(grid.chunk * 131 + model.count))
        let vocab = UInt64(m.config.vocabSize)
        for trial in 0..<6 {
            let n = 40 + Int(rng.next() % 60)
            let b = [Int32(m.config.eotTokenID)] + (1..<n).map { _ in Int32(1 + rng.next() % (vocab - 1)) }
            // A shares B's first `shared` tokens, then goes its own way.
            let shared = 1 + Int(rng.next() % UInt64(n - 1))
            let a = Array(b[..<shared]) + (0..<(10 + trial)).map { _ in Int32(1 + rng.next() % (vocab - 1)) }
            var blocksA: [StateBlock] = [], unused: [StateBlock] = []
            _ = try Self.read(m, m.newSequence(), a[...], chunk: grid.chunk, blocks: &blocksA)
            let cold = try Self.read(m, m.newSequence(), b[...], chunk: grid.chunk, blocks: &unused)
            // Reuse the blocks that lie within the shared part and leave B's last token to read.
            let reuse = blocksA.prefix { $0.end.length <= min(shared, n - 1) }
            let warm = m.newSequence()
            for block in reuse { warm.append(block) }
            let p = warm.length
            #expect(p % grid.chunk == 0)
            let resumed = try Self.read(m, warm, b[p...], chunk: grid.chunk, blocks: &unused)
            let same = resumed == Read(logits: Array(cold.logits[p...]), probs: Array(cold.probs[p...]), boundaries: Array(cold.boundaries[p...]))
            #expect(same, "trial \(trial): n \(n), shared \(shared), resumed at \(p)")
            #expect(warm.conceptCount == cold.boundaries.filter { $0 }.count - 1)
        }
    }

    /// Half-precision caches keep their rows bytes as they are.
    @Test func halfPrecisionCacheRowsCarryOver() throws {
        let m = try Self.load("tiny-quant", threads: 1, kvCache: .bf16)
        let tokens = (0..<37).map { Int32(($0 * 53) % (m.config.vocabSize - 1) + 1) }
        var blocks: [StateBlock] = [], unused: [StateBlock] = []
        let cold = try Self.read(m, m.newSequence(), tokens[...], chunk: 8, blocks: &blocks)
        let warm = m.newSequence()
        for block in blocks.prefix(3) { warm.append(block) }
        let resumed = try Self.read(m, warm, tokens[24...], chunk: 8, blocks: &unused)
        let same = resumed.logits == Array(cold.logits[24...])
        #expect(same, "the resumed logits differ")
    }
}
