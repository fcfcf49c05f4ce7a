import Kernels

/// The rows of one sequence inside a batched pass: rows first..<first+count of the activations
/// are that sequence's next positions, cache.count ..< cache.count + count.
struct RowGroup {
    let cache: KVCache
    let first: Int
    let count: Int
}

/// A causal LLaMA-style stack (pre-RMSNorm, GQA with RoPE, SwiGLU) ending in an RMSNorm. One
/// instance serves every sequence; the scratch buffers make it single-threaded at the call level
/// (the model's owner thread), while the work inside is spread over the thread pool.
final class TransformerStack {
    let weights: StackWeights
    let config: StackConfig
    let width: Int
    let headDim: Int
    let kvDim: Int
    let eps: Float
    let rope: RoPETable
    /// Element type of the caches `makeCache` makes.
    let cacheElement: CacheElement

    // Scratch, grown to the largest pass seen.
    private let xn = FloatBuffer()    // (rows, width)
    private let q = FloatBuffer()     // (rows, nHeads * headDim)
    private let k = FloatBuffer()     // (rows, kvDim)
    private let v = FloatBuffer()     // (rows, kvDim)
    private let att = FloatBuffer()   // (rows, nHeads * headDim)
    private let f1 = FloatBuffer()    // (rows, ffnDim)
    private let f3 = FloatBuffer()    // (rows, ffnDim)
    private let block = BlockAttention()

    init(weights: StackWeights, config: StackConfig, width: Int, eps: Float, ropeTheta: Double, maxPositions: Int,
         cacheElement: CacheElement = .standard) {
        self.cacheElement = cacheElement
        self.weights = weights
        self.config = config
        self.width = width
        headDim = width / config.nHeads
        kvDim = config.nKVHeads * headDim
        self.eps = eps
        rope = RoPETable(headDim: headDim, theta: ropeTheta, positions: maxPositions)
    }

    func makeCache() -> KVCache {
        KVCache(layers: config.nLayers, kvDim: kvDim, element: cacheElement, window: config.window, maxPositions: rope.positions)
    }

    /// x (rows, width) in place: on return it holds norm(stack(x)). Appends each group's keys and
    /// values to its cache.
    func forward(_ x: UnsafeMutablePointer<Float>, rows: Int, groups: [RowGroup], pool: ThreadPool?) {
        let d = width, nh = config.nHeads, hd = headDim, ffn = config.ffnDim
        let qDim = nh * hd, kvd = kvDim, rep = nh / config.nKVHeads
        for b in [xn, att] { b.reserve(rows * max(d, qDim)) }
        q.reserve(rows * qDim); k.reserve(rows * kvd); v.reserve(rows * kvd)
        f1.reserve(rows * ffn); f3.reserve(rows * ffn)
        // Row -> (cache, position) for the attention loop.
        var rowCache = [KVCache](); rowCache.reserveCapacity(rows)
        var rowPos = [Int](); rowPos.reserveCapacity(rows)
        for g in groups {
            g.cache.reserve(positions: g.cache.count + g.count)
            for j in 0..<g.count { rowCache.append(g.cache); rowPos.append(g.cache.count + j) }
        }
        let xn = xn.pointer, q = q.pointer, k = k.pointer, v = v.pointer, att = att.pointer
        let f1 = f1.pointer, f3 = f3.pointer
        let scale = 1 / Float(hd).squareRoot()

        for (l, w) in weights.layers.enumerated() {
            w.attnNorm.withUnsafeBufferPointer { nw in
                rmsnorm(xn, x, weight: nw.baseAddress!, dim: d, rows: rows, eps: eps)
            }
            matmul(q, xn, w.wq, m: rows, pool: pool)
            matmul(k, xn, w.wk, m: rows, pool: pool)
            matmul(v, xn, w.wv, m: rows, pool: pool)
            for r in 0..<rows {
                let pos = rowPos[r]
                rope.apply(q + r * qDim, heads: nh, pos: pos)
                rope.apply(k + r * kvd, heads: config.nKVHeads, pos: pos)
                rowCache[r].store(layer: l, position: pos, key: k + r * kvd, value: v + r * kvd)
            }
            // Groups of several new rows (prefill chunks) in matrix form; single rows (decode) below.
            var rowLoop = [Int]()
            for g in groups {
                // A windowed stack reads only its last few positions per row: the row loop.
                if g.count >= 8 && config.window == 0 {
                    block.run(q: q, att: att, first: g.first, n: g.count, start: g.cache.count,
                              keys: g.cache.keys(l), values: g.cache.values(l), element: g.cache.element,
                              nHeads: nh, nKVHeads: config.nKVHeads, headDim: hd, pool: pool)
                } else {
                    rowLoop.append(contentsOf: g.first..<(g.first + g.count))
                }
            }
            // Two query heads per KV head (the shipped shapes): score and mix both in one pass
            // over the cached rows, so each K and V row is loaded once.
            let paired = rep == 2, nkv = config.nKVHeads, stack = config
            let work = rowLoop.count * (paired ? nkv : nh)
            let body: (Range<Int>) -> Void = paired ? { range in
                for item in range {
                    let r = rowLoop[item / nkv], kvh = item % nkv
                    let lo = stack.firstAttended(by: rowPos[r]), n = rowPos[r] + 1 - lo
                    let cache = rowCache[r], e = cache.element
                    let at = ((lo - cache.base) * kvd + kvh * hd) * e.byteSize
                    let keys = cache.keys(l) + at, values = cache.values(l) + at
                    let q0 = q + r * qDim + 2 * kvh * hd, out0 = att + r * qDim + 2 * kvh * hd
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * n) { sbuf in
                        let s0 = sbuf.baseAddress!, s1 = s0 + n
                        attentionScorePairs(s0, s1, q0: q0, q1: q0 + hd, keys: keys, element: e, stride: kvd, n: n, headDim: hd, scale: scale)
                        softmax(s0, length: n)
                        softmax(s1, length: n)
                        attentionValuePairs(out0, out0 + hd, weights: s0, s1, values: values, element: e, stride: kvd, n: n, headDim: hd)
                    }
                }
            } : { range in
                for item in range {
                    let r = rowLoop[item / nh], h = item % nh, kvh = h / rep
                    let lo = stack.firstAttended(by: rowPos[r]), n = rowPos[r] + 1 - lo
                    let cache = rowCache[r], e = cache.element
                    let at = ((lo - cache.base) * kvd + kvh * hd) * e.byteSize
                    let keys = cache.keys(l) + at, values = cache.values(l) + at
                    let qh = q + r * qDim + h * hd, out = att + r * qDim + h * hd
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: n) { sbuf in
                        let s = sbuf.baseAddress!
                        attentionScores(s, q: qh, keys: keys, element: e, stride: kvd, n: n, headDim: hd, scale: scale)
                        softmax(s, length: n)
                        attentionValues(out, weights: s, values: values, element: e, stride: kvd, n: n, headDim: hd)
                    }
                }
            }
            // Split over threads once there are a few items and enough cached rows to read: one
            // item (a row's head pair over ~100 positions) is ~1 us, a hand-off ~1 us.
            let reach = config.window > 0 ? min(config.window, (rowPos.last ?? 0) + 1) : (rowPos.last ?? 0)
            if let pool, work >= 4, work * reach >= 1024 { pool.parallelFor(work, body) } else if work > 0 { body(0..<work) }
            matmul(x, att, w.wo, m: rows, accumulate: true, pool: pool)

            w.ffnNorm.withUnsafeBufferPointer { nw in
                rmsnorm(xn, x, weight: nw.baseAddress!, dim: d, rows: rows, eps: eps)
            }
            matmul(f1, xn, w.w1, m: rows, pool: pool)
            matmul(f3, xn, w.w3, m: rows, pool: pool)
            siluMul(f1, f1, f3, count: rows * ffn)
            matmul(x, f1, w.w2, m: rows, accumulate: true, pool: pool)
        }
        weights.norm.withUnsafeBufferPointer { nw in
            rmsnorm(x, x, weight: nw.baseAddress!, dim: d, rows: rows, eps: eps)
        }
        for g in groups { g.cache.advance(by: g.count) }
    }

    var scratchBytes: Int { [xn, q, k, v, att, f1, f3].reduce(0) { $0 + $1.bytes } }
}
