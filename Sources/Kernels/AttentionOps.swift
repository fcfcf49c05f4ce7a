// One query row against a cache of keys and values: the two halves of decode-time attention.
//
// A head is 16-64 wide here (48 in the token stacks, 64 in the backbone), so a generic `dot` per
// cached position spends as much on call, loop and reload overhead as on arithmetic. These keep the
// query (scores) or the output accumulators (values) in registers across all positions. Other
// widths fall back to `dot` / `addScaled`. Results may differ from those in the last bit (the
// order of the additions differs).

/// scores[t] = (q · keys[t * stride ..< t * stride + headDim]) · scale for t < n.
/// - Parameters: q: (headDim); keys: (n, stride) with the head at offset 0; scores: (n).
public func attentionScores(_ scores: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, keys: UnsafePointer<Float>,
                            stride: Int, n: Int, headDim: Int, scale: Float) {
    switch headDim {
    case 16: scoresFixed(scores, q, keys, stride, n, vectors: 1, scale)
    case 32: scoresFixed(scores, q, keys, stride, n, vectors: 2, scale)
    case 48: scoresFixed(scores, q, keys, stride, n, vectors: 3, scale)
    case 64: scoresFixed(scores, q, keys, stride, n, vectors: 4, scale)
    default:
        for t in 0..<n { scores[t] = dot(q, keys + t * stride, count: headDim) * scale }
    }
}

/// out = Σ_t weights[t] · values[t * stride ..< t * stride + headDim] (overwrites out).
/// - Parameters: weights: (n); values: (n, stride) with the head at offset 0; out: (headDim).
public func attentionValues(_ out: UnsafeMutablePointer<Float>, weights: UnsafePointer<Float>, values: UnsafePointer<Float>,
                            stride: Int, n: Int, headDim: Int) {
    switch headDim {
    case 16: valuesFixed(out, weights, values, stride, n, vectors: 1)
    case 32: valuesFixed(out, weights, values, stride, n, vectors: 2)
    case 48: valuesFixed(out, weights, values, stride, n, vectors: 3)
    case 64: valuesFixed(out, weights, values, stride, n, vectors: 4)
    default:
        out.update(repeating: 0, count: headDim)
        for t in 0..<n { addScaled(out, values + t * stride, alpha: weights[t], count: headDim) }
    }
}

/// `vectors` is a literal at each call site, so the inlined body has no per-position branches.
@inline(__always)
private func scoresFixed(_ scores: UnsafeMutablePointer<Float>, _ q: UnsafePointer<Float>, _ keys: UnsafePointer<Float>,
                         _ stride: Int, _ n: Int, vectors: Int, _ scale: Float) {
    let q0 = load16(q), q1 = vectors > 1 ? load16(q + 16) : Vec()
    let q2 = vectors > 2 ? load16(q + 32) : Vec(), q3 = vectors > 3 ? load16(q + 48) : Vec()
    var k = keys
    for t in 0..<n {
        var s = q0 * load16(k)
        if vectors > 1 { s = s.addingProduct(q1, load16(k + 16)) }
        if vectors > 2 { s = s.addingProduct(q2, load16(k + 32)) }
        if vectors > 3 { s = s.addingProduct(q3, load16(k + 48)) }
        scores[t] = horizontalSum(s) * scale
        k += stride
    }
}

@inline(__always)
private func valuesFixed(_ out: UnsafeMutablePointer<Float>, _ weights: UnsafePointer<Float>, _ values: UnsafePointer<Float>,
                         _ stride: Int, _ n: Int, vectors: Int) {
    var a0 = Vec(), a1 = Vec(), a2 = Vec(), a3 = Vec()
    var v = values
    for t in 0..<n {
        let w = Vec(repeating: weights[t])
        a0 = a0.addingProduct(w, load16(v))
        if vectors > 1 { a1 = a1.addingProduct(w, load16(v + 16)) }
        if vectors > 2 { a2 = a2.addingProduct(w, load16(v + 32)) }
        if vectors > 3 { a3 = a3.addingProduct(w, load16(v + 48)) }
        v += stride
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
    switch headDim {
    case 16: pairScoresFixed(s0, s1, q0, q1, keys, stride, n, vectors: 1, scale)
    case 32: pairScoresFixed(s0, s1, q0, q1, keys, stride, n, vectors: 2, scale)
    case 48: pairScoresFixed(s0, s1, q0, q1, keys, stride, n, vectors: 3, scale)
    case 64: pairScoresFixed(s0, s1, q0, q1, keys, stride, n, vectors: 4, scale)
    default:
        attentionScores(s0, q: q0, keys: keys, stride: stride, n: n, headDim: headDim, scale: scale)
        attentionScores(s1, q: q1, keys: keys, stride: stride, n: n, headDim: headDim, scale: scale)
    }
}

/// `attentionValues` for two query heads that share one value head: each value row is loaded once.
/// - Parameters: w0, w1: (n); out0, out1: (headDim), overwritten.
public func attentionValuePairs(_ out0: UnsafeMutablePointer<Float>, _ out1: UnsafeMutablePointer<Float>,
                                weights w0: UnsafePointer<Float>, _ w1: UnsafePointer<Float>, values: UnsafePointer<Float>,
                                stride: Int, n: Int, headDim: Int) {
    switch headDim {
    case 16: pairValuesFixed(out0, out1, w0, w1, values, stride, n, vectors: 1)
    case 32: pairValuesFixed(out0, out1, w0, w1, values, stride, n, vectors: 2)
    case 48: pairValuesFixed(out0, out1, w0, w1, values, stride, n, vectors: 3)
    case 64: pairValuesFixed(out0, out1, w0, w1, values, stride, n, vectors: 4)
    default:
        attentionValues(out0, weights: w0, values: values, stride: stride, n: n, headDim: headDim)
        attentionValues(out1, weights: w1, values: values, stride: stride, n: n, headDim: headDim)
    }
}

@inline(__always)
private func pairScoresFixed(_ s0: UnsafeMutablePointer<Float>, _ s1: UnsafeMutablePointer<Float>,
                             _ q0: UnsafePointer<Float>, _ q1: UnsafePointer<Float>, _ keys: UnsafePointer<Float>,
                             _ stride: Int, _ n: Int, vectors: Int, _ scale: Float) {
    let a0 = load16(q0), a1 = vectors > 1 ? load16(q0 + 16) : Vec()
    let a2 = vectors > 2 ? load16(q0 + 32) : Vec(), a3 = vectors > 3 ? load16(q0 + 48) : Vec()
    let b0 = load16(q1), b1 = vectors > 1 ? load16(q1 + 16) : Vec()
    let b2 = vectors > 2 ? load16(q1 + 32) : Vec(), b3 = vectors > 3 ? load16(q1 + 48) : Vec()
    var k = keys
    for t in 0..<n {
        let k0 = load16(k)
        var x = a0 * k0, y = b0 * k0
        if vectors > 1 { let kv = load16(k + 16); x = x.addingProduct(a1, kv); y = y.addingProduct(b1, kv) }
        if vectors > 2 { let kv = load16(k + 32); x = x.addingProduct(a2, kv); y = y.addingProduct(b2, kv) }
        if vectors > 3 { let kv = load16(k + 48); x = x.addingProduct(a3, kv); y = y.addingProduct(b3, kv) }
        s0[t] = horizontalSum(x) * scale
        s1[t] = horizontalSum(y) * scale
        k += stride
    }
}

@inline(__always)
private func pairValuesFixed(_ out0: UnsafeMutablePointer<Float>, _ out1: UnsafeMutablePointer<Float>,
                             _ w0: UnsafePointer<Float>, _ w1: UnsafePointer<Float>, _ values: UnsafePointer<Float>,
                             _ stride: Int, _ n: Int, vectors: Int) {
    var a0 = Vec(), a1 = Vec(), a2 = Vec(), a3 = Vec()
    var b0 = Vec(), b1 = Vec(), b2 = Vec(), b3 = Vec()
    var v = values
    for t in 0..<n {
        let x = Vec(repeating: w0[t]), y = Vec(repeating: w1[t])
        let v0 = load16(v)
        a0 = a0.addingProduct(x, v0); b0 = b0.addingProduct(y, v0)
        if vectors > 1 { let vv = load16(v + 16); a1 = a1.addingProduct(x, vv); b1 = b1.addingProduct(y, vv) }
        if vectors > 2 { let vv = load16(v + 32); a2 = a2.addingProduct(x, vv); b2 = b2.addingProduct(y, vv) }
        if vectors > 3 { let vv = load16(v + 48); a3 = a3.addingProduct(x, vv); b3 = b3.addingProduct(y, vv) }
        v += stride
    }
    store16(a0, out0); store16(b0, out1)
    if vectors > 1 { store16(a1, out0 + 16); store16(b1, out1 + 16) }
    if vectors > 2 { store16(a2, out0 + 32); store16(b2, out1 + 32) }
    if vectors > 3 { store16(a3, out0 + 48); store16(b3, out1 + 48) }
}
