// exp(x) for 16 lanes at once: Cephes' expf polynomial, ~2 ulp over the float range.
//
// x = n·ln2 + r with n = round(x / ln2) and |r| <= ln2 / 2; e^r by a degree-6 polynomial;
// 2^n built directly in the exponent bits. Inputs below -87.3 give 0 (so -inf, used for
// masked attention scores, gives exactly 0); inputs above 88 are clamped (e^88 ≈ 1.65e38).

@_transparent @usableFromInline
func exp16(_ x: Vec) -> Vec {
    let lowest: Float = -87.3
    let clamped = lanewiseMin(lanewiseMax(x, Vec(repeating: lowest)), Vec(repeating: 88))
    // Round to nearest with the 1.5·2^23 trick: the integer lands in the low mantissa bits.
    let magic: Float = 12_582_912
    let shifted = Vec(repeating: magic).addingProduct(clamped, Vec(repeating: 1.442_695_04))
    let n = shifted - Vec(repeating: magic)
    let r = clamped.addingProduct(n, Vec(repeating: -0.693_359_375)).addingProduct(n, Vec(repeating: 2.121_944_4e-4))
    // Horner steps as fused multiply-adds (Swift does not contract `p * r + c` by itself).
    var p = Vec(repeating: 1.398_199_95e-3).addingProduct(Vec(repeating: 1.987_569_15e-4), r)
    p = Vec(repeating: 8.333_451_9e-3).addingProduct(p, r)
    p = Vec(repeating: 4.166_579_59e-2).addingProduct(p, r)
    p = Vec(repeating: 1.666_666_55e-1).addingProduct(p, r)
    p = Vec(repeating: 5.000_000_12e-1).addingProduct(p, r)
    let r2 = r * r
    let er = (r + Vec(repeating: 1)).addingProduct(p, r2)
    let integer = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- Int32(bitPattern: magic.bitPattern)
    let scale = unsafeBitCast((integer &+ 127) &<< 23, to: Vec.self)
    var result = er * scale
    // One masked blend (a per-lane loop here cost ~3x the whole polynomial).
    result.replace(with: 0, where: x .< Vec(repeating: lowest))
    return result
}

/// e^x for one value with the same polynomial (tails of vector loops).
@inline(__always) @usableFromInline
func exp1(_ x: Float) -> Float {
    exp16(Vec(repeating: x))[0]
}
