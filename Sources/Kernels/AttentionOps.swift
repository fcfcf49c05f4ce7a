// One query row against a cache of keys and values: the two halves of decode-time attention.
//
// A head is 16-64 wide here (48 in the token stacks, 64 in the backbone), so a generic `dot` per
// cached position spends as much on call, loop and reload overhead as on arithmetic. These keep the
// query (scores) or the output accumulators (values) in registers across all positions. Other
// widths fall back to `dot` / `addScaled`. Results may differ from those in the last bit (the
// order of the additions differs). Cached rows may be f32, bf16 or f16 (`CacheElement`): each
// loop is specialised for its element type and widens 16 elements per load.

/// scores[t] = (q · keys[t * stride ..< t * stride + headDim]) · scale for t < n.
/// - Parameters: q: (headDim); keys: (n, stride) with the head at offset 0; scores: (n).
public func attentionScores(_ scores: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, keys: UnsafePointer<Float>,
                            stride: Int, n: Int, headDim: Int, scale: Float) {
    scoresRows(F32CacheRows.self, scores, q, UnsafeRawPointer(keys), stride, n, headDim, scale)
}

/// `attentionScores` over cached keys of type `element` (stride in elements).
public func attentionScores(_ scores: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, keys: UnsafeRawPointer,
                            element: CacheElement, stride: Int, n: Int, headDim: Int, scale: Float) {
    switch element {
    case .f32: scoresRows(F32CacheRows.self, scores, q, keys, stride, n, headDim, scale)
    case .bf16: scoresRows(BF16CacheRows.self, scores, q, keys, stride, n, headDim, scale)
    case .f16: scoresRows(F16CacheRows.self, scores, q, keys, stride, n, headDim, scale)
    }
}

/// out = Σ_t weights[t] · values[t * stride ..< t * stride + headDim] (overwrites out).
/// - Parameters: weights: (n); values: (n, stride) with the head at offset 0; out: (headDim).
public func attentionValues(_ out: UnsafeMutablePointer<Float>, weights: UnsafePointer<Float>, values: UnsafePointer<Float>,
                            stride: Int, n: Int, headDim: Int) {
    valuesRows(F32CacheRows.self, out, weights, UnsafeRawPointer(values), stride, n, headDim)
}

/// `attentionValues` over cached values of type `element` (stride in elements).
public func attentionValues(_ out: UnsafeMutablePointer<Float>, weights: UnsafePointer<Float>, values: UnsafeRawPointer,
                            element: CacheElement, stride: Int, n: Int, headDim: Int) {
    switch element {
    case .f32: valuesRows(F32CacheRows.self, out, weights, values, stride, n, headDim)
    case .bf16: valuesRows(BF16CacheRows.self, out, weights, values, stride, n, headDim)
    case .f16: valuesRows(F16CacheRows.self, out, weights, values, stride, n, headDim)
    }
}

@inline(__always)
private func scoresRows<R: CacheRows>(_: R.Type, _ scores: UnsafeMutablePointer<Float>, _ q: UnsafePointer<Float>,
                                      _ keys: UnsafeRawPointer, _ stride: Int, _ n: Int, _ headDim: Int, _ scale: Float) {
    switch headDim {
    case 16: scoresFixed(R.self, scores, q, keys, stride, n, vectors: 1, scale)
    case 32: scoresFixed(R.self, scores, q, keys, stride, n, vectors: 2, scale)
    case 48: scoresFixed(R.self, scores, q, keys, stride, n, vectors: 3, scale)
    case 64: scoresFixed(R.self, scores, q, keys, stride, n, vectors: 4, scale)
    default:
        withUnsafeTemporaryAllocation(of: Float.self, capacity: headDim) { row in
            for t in 0..<n {
                for e in 0..<headDim { row[e] = R.element(keys + t * stride * R.byteSize, e) }
                scores[t] = dot(q, row.baseAddress!, count: headDim) * scale
            }
        }
    }
}

@inline(__always)
private func valuesRows<R: CacheRows>(_: R.Type, _ out: UnsafeMutablePointer<Float>, _ weights: UnsafePointer<Float>,
                                      _ values: UnsafeRawPointer, _ stride: Int, _ n: Int, _ headDim: Int) {
    switch headDim {
    case 16: valuesFixed(R.self, out, weights, values, stride, n, vectors: 1)
    case 32: valuesFixed(R.self, out, weights, values, stride, n, vectors: 2)
    case 48: valuesFixed(R.self, out, weights, values, stride, n, vectors: 3)
    case 64: valuesFixed(R.self, out, weights, values, stride, n, vectors: 4)
    default:
        out.update(repeating: 0, count: headDim)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: headDim) { row in
            for t in 0..<n {
                for e in 0..<headDim { row[e] = R.element(values + t * stride * R.byteSize, e) }
                addScaled(out, row.baseAddress!, alpha: weights[t], count: headDim)
            }
        }
    }
}

/// `vectors` is a literal at each call site, so the inlined body has no per-position branches.
@inline(__always)
private func scoresFixed<R: CacheRows>(_: R.Type, _ scores: UnsafeMutablePointer<Float>, _ q: UnsafePointer<Float>,
                                       _ keys: UnsafeRawPointer, _ stride: Int, _ n: Int, vectors: Int, _ scale: Float) {
    let q0 = load16(q), q1 = vectors > 1 ? load16(q + 16) : Vec()
    let q2 = vectors > 2 ? load16(q + 32) : Vec(), q3 = vectors > 3 ? load16(q + 48) : Vec()
    let e = R.byteSize
    var k = keys
    for t in 0..<n {
        var s = q0 * R.load16(k)
        if vectors > 1 { s = s.addingProduct(q1, R.load16(k + 16 * e)) }
        if vectors > 2 { s = s.addingProduct(q2, R.load16(k + 32 * e)) }
        if vectors > 3 { s = s.addingProduct(q3, R.load16(k + 48 * e)) }
        scores[t] = horizontalSum(s) * scale
        k += stride * e
    }
}

@inline(__always)
private func valuesFixed<R: CacheRows>(_: R.Type, _ out: UnsafeMutablePointer<Float>, _ weights: UnsafePointer<Float>,
                                       _ values: UnsafeRawPointer, _ stride: Int, _ n: Int, vectors: Int) {
    var a0 = Vec(), a1 = Vec(), a2 = Vec(), a3 = Vec()
    let e = R.byteSize
    var v = values
    for t in 0..<n {
        let w = Vec(repeating: weights[t])
        a0 = a0.addingProduct(w, R.load16(v))
        if vectors > 1 { a1 = a1.addingProduct(w, R.load16(v + 16 * e)) }
        if vectors > 2 { a2 = a2.addingProduct(w, R.load16(v + 32 * e)) }
        if vectors > 3 { a3 = a3.addingProduct(w, R.load16(v + 48 * e)) }
        v += stride * e
    }
    store16(a0, out)
    if vectors > 1 { store16(a1, out + 16) }
    if vectors > 2 { store16(a2, out + 32) }
    if vectors > 3 { store16(a3, out + 48) }
}

/// `attentionScores` for two query heads that share one key head (grouped-query attention with
/// two query heads per KV head): each cached key row is loaded once for both.
/// - Parameters: q0, q1: (headDim); s0, s1: (n).
public func attentionScorePairs(_ s0: UnsafeMutablePointer<Float>, _ s1: UnsafeMutablePointer<Float>,
                                q0: UnsafePointer<Float>, q1: UnsafePointer<Float>, keys: UnsafePointer<Float>,
                                stride: Int, n: Int, headDim: Int, scale: Float) {
    attentionScorePairs(s0, s1, q0: q0, q1: q1, keys: UnsafeRawPointer(keys), element: .f32, stride: stride, n: n,
                        headDim: headDim, scale: scale)
}

/// `attentionScorePairs` over cached keys of type `element` (stride in elements).
public func attentionScorePairs(_ s0: UnsafeMutablePointer<Float>, _ s1: UnsafeMutablePointer<Float>,
                                q0: UnsafePointer<Float>, q1: UnsafePointer<Float>, keys: UnsafeRawPointer,
                                element: CacheElement, stride: Int, n: Int, headDim: Int, scale: Float) {
    switch element {
    case .f32: pairScoresRows(F32CacheRows.self, s0, s1, q0, q1, keys, stride, n, headDim, scale)
    case .bf16: pairScoresRows(BF16CacheRows.self, s0, s1, q0, q1, keys, stride, n, headDim, scale)
    case .f16: pairScoresRows(F16CacheRows.self, s0, s1, q0, q1, keys, stride, n, headDim, scale)
    }
}

/// `attentionValues` for two query heads that share one value head: each value row is loaded once.
/// - Parameters: w0, w1: (n); out0, out1: (headDim), overwritten.
public func attentionValuePairs(_ out0: UnsafeMutablePointer<Float>, _ out1: UnsafeMutablePointer<Float>,
                                weights w0: UnsafePointer<Float>, _ w1: UnsafePointer<Float>, values: UnsafePointer<Float>,
                                stride: Int, n: Int, headDim: Int) {
    attentionValuePairs(out0, out1, weights: w0, w1, values: UnsafeRawPointer(values), element: .f32, stride: stride,
                        n: n, headDim: headDim)
}

/// `attentionValuePairs` over cached values of type `element` (stride in elements).
public func attentionValuePairs(_ out0: UnsafeMutablePointer<Float>, _ out1: UnsafeMutablePointer<Float>,
                                weights w0: UnsafePointer<Float>, _ w1: UnsafePointer<Float>, values: UnsafeRawPointer,
                                element: CacheElement, stride: Int, n: Int, headDim: Int) {
    switch element {
    case .f32: pairValuesRows(F32CacheRows.self, out0, out1, w0, w1, values, stride, n, headDim)
    case .bf16: pairValuesRows(BF16CacheRows.self, out0, out1, w0, w1, values, stride, n, headDim)
    case .f16: pairValuesRows(F16CacheRows.self, out0, out1, w0, w1, values, stride, n, headDim)
    }
}

@inline(__always)
private func pairScoresRows<R: CacheRows>(_: R.Type, _ s0: UnsafeMutablePointer<Float>, _ s1: UnsafeMutablePointer<Float>,
                                          _ q0: UnsafePointer<Float>, _ q1: UnsafePointer<Float>, _ keys: UnsafeRawPointer,
                                          _ stride: Int, _ n: Int, _ headDim: Int, _ scale: Float) {
    switch headDim {
    case 16: pairScoresFixed(R.self, s0, s1, q0, q1, keys, stride, n, vectors: 1, scale)
    case 32: pairScoresFixed(R.self, s0, s1, q0, q1, keys, stride, n, vectors: 2, scale)
    case 48: pairScoresFixed(R.self, s0, s1, q0, q1, keys, stride, n, vectors: 3, scale)
    case 64: pairScoresFixed(R.self, s0, s1, q0, q1, keys, stride, n, vectors: 4, scale)
    default:
        scoresRows(R.self, s0, q0, keys, stride, n, headDim, scale)
        scoresRows(R.self, s1, q1, keys, stride, n, headDim, scale)
    }
}

@inline(__always)
private func pairValuesRows<R: CacheRows>(_: R.Type, _ out0: UnsafeMutablePointer<Float>, _ out1: UnsafeMutablePointer<Float>,
                                          _ w0: UnsafePointer<Float>, _ w1: UnsafePointer<Float>, _ values: UnsafeRawPointer,
                                          _ stride: Int, _ n: Int, _ headDim: Int) {
    switch headDim {
    case 16: pairValuesFixed(R.self, out0, out1, w0, w1, values, stride, n, vectors: 1)
    case 32: pairValuesFixed(R.self, out0, out1, w0, w1, values, stride, n, vectors: 2)
    case 48: pairValuesFixed(R.self, out0, out1, w0, w1, values, stride, n, vectors: 3)
    case 64: pairValuesFixed(R.self, out0, out1, w0, w1, values, stride, n, vectors: 4)
    default:
        valuesRows(R.self, out0, w0, values, stride, n, headDim)
        valuesRows(R.self, out1, w1, values, stride, n, headDim)
    }
}

@inline(__always)
private func pairScoresFixed<R: CacheRows>(_: R.Type, _ s0: UnsafeMutablePointer<Float>, _ s1: UnsafeMutablePointer<Float>,
                                           _ q0: UnsafePointer<Float>, _ q1: UnsafePointer<Float>, _ keys: UnsafeRawPointer,
                                           _ stride: Int, _ n: Int, vectors: Int, _ scale: Float) {
    let a0 = load16(q0), a1 = vectors > 1 ? load16(q0 + 16) : Vec()
    let a2 = vectors > 2 ? load16(q0 + 32) : Vec(), a3 = vectors > 3 ? load16(q0 + 48) : Vec()
    let b0 = load16(q1), b1 = vectors > 1 ? load16(q1 + 16) : Vec()
    let b2 = vectors > 2 ? load16(q1 + 32) : Vec(), b3 = vectors > 3 ? load16(q1 + 48) : Vec()
    let e = R.byteSize
    var k = keys
    for t in 0..<n {
        let k0 = R.load16(k)
        var x = a0 * k0, y = b0 * k0
        if vectors > 1 { let kv = R.load16(k + 16 * e); x = x.addingProduct(a1, kv); y = y.addingProduct(b1, kv) }
        if vectors > 2 { let kv = R.load16(k + 32 * e); x = x.addingProduct(a2, kv); y = y.addingProduct(b2, kv) }
        if vectors > 3 { let kv = R.load16(k + 48 * e); x = x.addingProduct(a3, kv); y = y.addingProduct(b3, kv) }
        s0[t] = horizontalSum(x) * scale
        s1[t] = horizontalSum(y) * scale
        k += stride * e
    }
}

@inline(__always)
private func pairValuesFixed<R: CacheRows>(_: R.Type, _ out0: UnsafeMutablePointer<Float>, _ out1: UnsafeMutablePointer<Float>,
                                           _ w0: UnsafePointer<Float>, _ w1: UnsafePointer<Float>, _ values: UnsafeRawPointer,
                                           _ stride: Int, _ n: Int, vectors: Int) {
    var a0 = Vec(), a1 = Vec(), a2 = Vec(), a3 = Vec()
    var b0 = Vec(), b1 = Vec(), b2 = Vec(), b3 = Vec()
    let e = R.byteSize
    var v = values
    for t in 0..<n {
        let x = Vec(repeating: w0[t]), y = Vec(repeating: w1[t])
        let v0 = R.load16(v)
        a0 = a0.addingProduct(x, v0); b0 = b0.addingProduct(y, v0)
        if vectors > 1 { let vv = R.load16(v + 16 * e); a1 = a1.addingProduct(x, vv); b1 = b1.addingProduct(y, vv) }
        if vectors > 2 { let vv = R.load16(v + 32 * e); a2 = a2.addingProduct(x, vv); b2 = b2.addingProduct(y, vv) }
        if vectors > 3 { let vv = R.load16(v + 48 * e); a3 = a3.addingProduct(x, vv); b3 = b3.addingProduct(y, vv) }
        v += stride * e
    }
    store16(a0, out0); store16(b0, out1)
    if vectors > 1 { store16(a1, out0 + 16); store16(b1, out1 + 16) }
    if vectors > 2 { store16(a2, out0 + 32); store16(b2, out1 + 32) }
    if vectors > 3 { store16(a3, out0 + 48); store16(b3, out1 + 48) }
}
