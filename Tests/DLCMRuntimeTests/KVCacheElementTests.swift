import Foundation
import Kernels
import Testing
@testable import DLCMRuntime

/// KV caches of bf16 / f16 (`--kv-cache`): keys and values rounded once when written, widened
/// when read. The same model with an f32 cache is the reference.
@Suite struct KVCacheElementTests {
    static let elements: [CacheElement] = [.bf16, .f16]

    /// Prefill of prompts long and short (block attention from 8 rows, the row loop below), then
    /// 12 decode steps of all of them batched, boundaries forced to the f32 model's. bf16 keeps 8
    /// significant bits, so each cached key and value is off by up to 2^-9 of itself (f16: 2^-12);
    /// the bounds, 2% and 0.5% of the largest logit, allow that error to grow through the layers.
    @Test(arguments: elements, [1, 2])
    func decodeStaysCloseToTheF32Cache(element: CacheElement, threads: Int) throws {
        let dir = Fixtures.directory("tiny-quant")
        let exact = try DLCMModel.load(directory: dir, threads: threads)
        let half = try DLCMModel.load(directory: dir, threads: threads, kvCache: element)
        #expect(half.kvCache == element)
        let prompts = QuantizedCheckpointTests.prompts(vocab: exact.config.vocabSize)
        let es = prompts.map { _ in exact.newSequence() }, hs = prompts.map { _ in half.newSequence() }
        var a = try exact.forward(zip(es, prompts).map { BatchItem(sequence: $0, tokens: $1, allLogits: true) })
        var b = try half.forward(zip(hs, zip(prompts, a)).map {
            BatchItem(sequence: $0, tokens: $1.0, allLogits: true, boundaries: $1.1.boundaries) })
        var worst: Float = 0, scale: Float = 0
        for _ in 0..<12 {
            for (x, y) in zip(a, b) {
                for (p, q) in zip(x.logits, y.logits) {
                    worst = max(worst, maxAbsDiff(p, q))
                    scale = max(scale, p.map(abs).max()!)
                }
            }
            let next = a.map { argmax($0.logits.last!) }
            a = try exact.forward(zip(es, next).map { BatchItem(sequence: $0, tokens: [$1]) })
            b = try half.forward(zip(hs, zip(next, a)).map { BatchItem(sequence: $0, tokens: [$1.0], boundaries: $1.1.boundaries) })
        }
        let bound: Float = element == .bf16 ? 0.02 : 0.005
        #expect(worst < bound * scale, "\(element): logits differ by \(worst), largest |logit| \(scale)")
        #expect(worst > 0, "the \(element) cache was not used")
    }

    @Test(arguments: elements)
    func aPositionTakesHalfTheBytes(element: CacheElement) {
        let f32 = KVCache(layers: 3, kvDim: 48, element: .f32, initialPositions: 100)
        let half = KVCache(layers: 3, kvDim: 48, element: element, initialPositions: 100)
        #expect(half.bytes * 2 == f32.bytes)
        // An odd width rounds the storage up, never down.
        #expect(KVCache(layers: 1, kvDim: 5, element: element, initialPositions: 3).bytes >= 2 * 2 * 15)
    }

    @Test(arguments: elements)
    func aCopyKeepsTheRoundedRows(element: CacheElement) {
        let cache = KVCache(layers: 2, kvDim: 32, element: element)
        cache.reserve(positions: 40)
        for pos in 0..<40 {
            for l in 0..<2 {
                let k = (0..<32).map { Float(sin(Double(pos * 64 + l * 32 + $0))) }, v = k.map { 3 * $0 }
                cache.store(layer: l, position: pos, key: k, value: v)
            }
        }
        cache.advance(by: 40)
        let copy = cache.copy()
        #expect(copy.count == 40 && copy.element == element)
        for l in 0..<2 {
            let bytes = 40 * cache.rowBytes
            #expect(memcmp(copy.keys(l), cache.keys(l), bytes) == 0 && memcmp(copy.values(l), cache.values(l), bytes) == 0)
        }
    }
}
