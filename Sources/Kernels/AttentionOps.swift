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
