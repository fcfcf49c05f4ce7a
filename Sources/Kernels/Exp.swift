// exp(x) for 16 lanes at once: Cephes' expf polynomial, ~2 ulp over the float range.
//
// x = n·ln2 + r with n = round(x / ln2) and |r| <= ln2 / 2; e^r by a degree-6 polynomial;
// 2^n built directly in the exponent bits. Inputs below -87.3 give 0 (so -inf, used for
// masked attention scores, gives exactly 0); inputs above 88 are clamped (e^88 ≈ 1.65e38).

@inline(__always) @usableFromInline
func exp16(_ x: Vec) -> Vec {
    let lowest: Float = -87.3
    let clamped = lanewiseMin(lanewiseMax(x, Vec(repeating: lowest)), Vec(repeating: 88))
    // Round to nearest with the 1.5·2^23 trick: the integer lands in the low mantissa bits.
    let magic: Float = 12_582_912
    let shifted = clamped * Vec(repeating: 1.442_695_04) + Vec(repeating: magic)
    let n = shifted - Vec(repeating: magic)
    let r = clamped - n * Vec(repeating: 0.693_359_375) - n * Vec(repeating: -2.121_944_4e-4)
    var p = Vec(repeating: 1.987_569_15e-4)
    p = p * r + Vec(repeating: 1.398_199_95e-3)
    p = p * r + Vec(repeating: 8.333_451_9e-3)
    p = p * r + Vec(repeating: 4.166_579_59e-2)
    p = p * r + Vec(repeating: 1.666_666_55e-1)
    p = p * r + Vec(repeating: 5.000_000_12e-1)
    let r2 = r * r
    let er = p * r2 + r + Vec(repeating: 1)
    let integer = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- Int32(bitPattern: magic.bitPattern)
    let scale = unsafeBitCast((integer &+ 127) &<< 23, to: Vec.self)
    var result = er * scale
    for i in 0..<16 where x[i] < lowest { result[i] = 0 }
    return result
}

/// e^x for one value with the same polynomial (tails of vector loops).
@inline(__always) @usableFromInline
func exp1(_ x: Float) -> Float {
    exp16(Vec(repeating: x))[0]
}
