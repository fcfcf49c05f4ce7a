import Kernels

/// Causal attention for a block of n >= 2 new rows of one sequence, in matrix form so the packed
/// matmul kernel does the work: per query head, scores (n, T) = Q_h · K_hᵀ and out (n, hd) =
/// P · V_h. Decode (n == 1) stays on the row loop in TransformerStack, where this setup would
/// cost more than it saves.
final class BlockAttention {
    private let kh = FloatBuffer()   // (T, hd) keys of one KV head, contiguous
    private let vt = FloatBuffer()   // (hd, T) values of one KV head, transposed
    private let qh = FloatBuffer()   // (n, hd) queries of one head
    private let sc = FloatBuffer()   // (n, T) scores -> probabilities
    private let oh = FloatBuffer()   // (n, hd) output of one head

    /// - Parameters:
    ///   - q: (rows, nHeads*hd) queries, RoPE applied; this block is rows first..<first+n.
    ///   - keys, values: (T, kvDim) `element`s, the sequence's cache for this layer, T = start + n,
    ///     the block's own keys already written at start..<T.
    ///   - att: (rows, nHeads*hd) output.
    func run(q: UnsafePointer<Float>, att: UnsafeMutablePointer<Float>, first: Int, n: Int, start: Int,
             keys: UnsafeRawPointer, values: UnsafeRawPointer, element: CacheElement,
             nHeads: Int, nKVHeads: Int, headDim hd: Int, pool: ThreadPool?) {
        let T = start + n, qDim = nHeads * hd, kvDim = nKVHeads * hd, rep = nHeads / nKVHeads
        kh.reserve(T * hd); vt.reserve(hd * T); qh.reserve(n * hd); sc.reserve(n * T); oh.reserve(n * hd)
        let kh = kh.pointer, vt = vt.pointer, qh = qh.pointer, sc = sc.pointer, oh = oh.pointer
        let scale = 1 / Float(hd).squareRoot()
        let rowBytes = kvDim * element.byteSize, headBytes = hd * element.byteSize
        for g in 0..<nKVHeads {
            for t in 0..<T {
                loadCacheRow(kh + t * hd, keys + t * rowBytes + g * headBytes, element: element, count: hd)
                // The value row goes through qh (free until the queries are copied) to be transposed.
                loadCacheRow(qh, values + t * rowBytes + g * headBytes, element: element, count: hd)
                for e in 0..<hd { vt[e * T + t] = qh[e] }
            }
            let kMatrix = WeightMatrix(f32: kh, rows: T, cols: hd)
            let vMatrix = WeightMatrix(f32: vt, rows: hd, cols: T)
            for h in (g * rep)..<((g + 1) * rep) {
                for j in 0..<n { (qh + j * hd).update(from: q + (first + j) * qDim + h * hd, count: hd) }
                matmul(sc, qh, kMatrix, m: n, pool: pool)
                for j in 0..<n {
                    let row = sc + j * T, valid = start + j + 1
                    for t in 0..<valid { row[t] *= scale }
                    softmax(row, length: valid)
                    if valid < T { (row + valid).update(repeating: 0, count: T - valid) }
                }
                matmul(oh, sc, vMatrix, m: n, pool: pool)
                for j in 0..<n { (att + (first + j) * qDim + h * hd).update(from: oh + j * hd, count: hd) }
            }
        }
    }
}
