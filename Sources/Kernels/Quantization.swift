// Block-quantized weights: q8_0 and q4_0 (weights/FORMAT.md, "Quantized checkpoints").
//
// A row is cut into blocks of `quantBlock` (32) consecutive weights, each with one f16 scale.
// Quantizing follows weights/recipe/quantize.py step for step in f32, so the Swift converter
// and the recipe write the same bytes:
//   d = max|w| / qmax, d16 = Float16(d), s = Float(d16)
//   q = clamp(round_half_even(w / s), qmin, qmax); every q of the block 0 when s == 0
// q8_0: q in -127...127, one int8 a weight. q4_0: q in -8...7, stored as q + 8 in a nibble;
// byte j (0..<16) of a block holds element j in its low nibble and element j + 16 in its high
// one, so unpacking gives elements 0-15 and 16-31 as two 16-lane vectors.
// Dequantized: Float(q) * s. Exact in f32 (an integer of at most 8 bits times an 11-bit f16
// significand), which is why the kernels scale the weights rather than partial sums: a quantized
// matrix multiplies exactly as its dequantized f32 copy does (QuantizedMatvec.swift).

/// Weights per quantization block (and per scale).
public let quantBlock = 32

/// Quantizes `count` weights (a multiple of `quantBlock`: whole rows of a matrix whose width is
/// one) into `type`'s codes and scales.
///
/// - Parameters:
///   - values: (count) f32 weights.
///   - codes: (type.rowBytes(count)) bytes out.
///   - scales: (count / quantBlock) f16 out.
/// - Returns: false, leaving the output incomplete, when a weight is not finite or a block's
///   scale overflows f16 (max|w| above 65504 times 127 or 7): nothing faithful can be stored.
public func quantize(_ values: UnsafePointer<Float>, count: Int, as type: WeightType,
                     codes: UnsafeMutableRawPointer, scales: UnsafeMutableRawPointer) -> Bool {
    precondition(type.isQuantized && count % quantBlock == 0, "quantize: \(type), \(count) weights")
    let qmax: Float = type == .q8_0 ? 127 : 7
    let qmin: Float = type == .q8_0 ? -127 : -8
    var q = [Float](repeating: 0, count: quantBlock)
    for b in 0..<(count / quantBlock) {
        let w = values + b * quantBlock
        var amax: Float = 0
        for i in 0..<quantBlock {
            guard w[i].isFinite else { return false }
            amax = max(amax, abs(w[i]))
        }
        let d16 = Float16(amax / qmax)
        guard d16.isFinite else { return false }
        scales.storeBytes(of: d16.bitPattern.littleEndian, toByteOffset: 2 * b, as: UInt16.self)
        let s = Float(d16)
        for i in 0..<quantBlock {
            q[i] = s == 0 ? 0 : min(max((w[i] / s).rounded(.toNearestOrEven), qmin), qmax)
        }
        if type == .q8_0 {
            for i in 0..<quantBlock {
                codes.storeBytes(of: Int8(q[i]), toByteOffset: b * quantBlock + i, as: Int8.self)
            }
        } else {
            let half = quantBlock / 2
            for j in 0..<half {
                let byte = UInt8(q[j] + 8) | UInt8(q[j + half] + 8) << 4
                codes.storeBytes(of: byte, toByteOffset: b * half + j, as: UInt8.self)
            }
        }
    }
    return true
}

/// Dequantizes `count` weights (a multiple of `quantBlock`).
/// - Parameters:
///   - codes: (type.rowBytes(count)) bytes.
///   - scales: (count / quantBlock) f16.
///   - dst: (count) f32 out.
public func dequantize(codes: UnsafeRawPointer, scales: UnsafeRawPointer, type: WeightType, count: Int,
                       into dst: UnsafeMutablePointer<Float>) {
    precondition(type.isQuantized && count % quantBlock == 0, "dequantize: \(type), \(count) weights")
    for b in 0..<(count / quantBlock) {
        let (lo, hi) = type == .q8_0 ? loadQ8Block(codes, scales, b) : loadQ4Block(codes, scales, b)
        store16(lo, dst + b * quantBlock)
        store16(hi, dst + b * quantBlock + 16)
    }
}

/// Scale of block `b` of a row whose scales start at `scales`, as f32.
@inline(__always) @usableFromInline
func blockScale(_ scales: UnsafeRawPointer, _ b: Int) -> Float {
    Float(Float16(bitPattern: UInt16(littleEndian: scales.loadUnaligned(fromByteOffset: 2 * b, as: UInt16.self))))
}

/// The 32 weights of q8_0 block `b` of a row (codes at `codes`, scales at `scales`),
/// dequantized: elements 0-15 and 16-31. Lane loops, not SIMD conversions (Conversion.swift).
@inline(__always) @usableFromInline
func loadQ8Block(_ codes: UnsafeRawPointer, _ scales: UnsafeRawPointer, _ b: Int) -> (SIMD16<Float>, SIMD16<Float>) {
    let s = SIMD16<Float>(repeating: blockScale(scales, b))
    let lo = (codes + 32 * b).loadUnaligned(as: SIMD16<Int8>.self)
    let hi = (codes + 32 * b + 16).loadUnaligned(as: SIMD16<Int8>.self)
    var a = SIMD16<Float>(), c = SIMD16<Float>()
    for i in 0..<16 {
        a[i] = Float(lo[i])
        c[i] = Float(hi[i])
    }
    return (a * s, c * s)
}

/// The 32 weights of q4_0 block `b` of a row, dequantized: elements 0-15 (low nibbles) and
/// 16-31 (high nibbles).
@inline(__always) @usableFromInline
func loadQ4Block(_ codes: UnsafeRawPointer, _ scales: UnsafeRawPointer, _ b: Int) -> (SIMD16<Float>, SIMD16<Float>) {
    let s = SIMD16<Float>(repeating: blockScale(scales, b))
    let (lo, hi) = nibbles(codes + 16 * b)
    return (lo * s, hi * s)
}

/// The 16 bytes at `p` as their low nibbles minus 8 and their high nibbles minus 8, in f32.
/// Widened first, then masked and shifted as whole vectors: a lane loop doing all of it per byte
/// compiles to scalar code (one vcvtsi2ss a lane), this to vpmovzxbd, vpandd / vpsrld, vpaddd and
/// vcvtdq2ps.
@inline(__always) @usableFromInline
func nibbles(_ p: UnsafeRawPointer) -> (SIMD16<Float>, SIMD16<Float>) {
    let bytes = p.loadUnaligned(as: SIMD16<UInt8>.self)
    var wide = SIMD16<Int32>()
    for i in 0..<16 { wide[i] = Int32(bytes[i]) }
    let eight = SIMD16<Int32>(repeating: 8)
    let low = (wide & SIMD16<Int32>(repeating: 0x0F)) &- eight, high = (wide &>> SIMD16<Int32>(repeating: 4)) &- eight
    var a = SIMD16<Float>(), c = SIMD16<Float>()
    for i in 0..<16 {
        a[i] = Float(low[i])
        c[i] = Float(high[i])
    }
    return (a, c)
}

/// 16 weights of a quantized row from element `k` (a multiple of 16), dequantized: half a
/// block (the matmul's per-call packing reads rows 16 elements at a time).
@inline(__always) @usableFromInline
func loadQuantized16(_ codes: UnsafeRawPointer, _ scales: UnsafeRawPointer, _ k: Int, _ type: WeightType) -> SIMD16<Float> {
    let b = k / quantBlock
    let s = SIMD16<Float>(repeating: blockScale(scales, b))
    var v = SIMD16<Float>()
    if type == .q8_0 {
        let raw = (codes + k).loadUnaligned(as: SIMD16<Int8>.self)
        for i in 0..<16 { v[i] = Float(raw[i]) }
    } else {
        let (lo, hi) = nibbles(codes + 16 * b)
        v = k % quantBlock == 0 ? lo : hi
    }
    return v * s
}

/// Element `i` of a quantized row, dequantized (scalar edges).
@inline(__always) @usableFromInline
func quantizedElement(_ codes: UnsafeRawPointer, _ scales: UnsafeRawPointer, _ i: Int, _ type: WeightType) -> Float {
    let b = i / quantBlock, j = i % quantBlock
    let q: Int32
    if type == .q8_0 {
        q = Int32(codes.load(fromByteOffset: i, as: Int8.self))
    } else {
        let byte = codes.load(fromByteOffset: b * 16 + j % 16, as: UInt8.self)
        q = Int32(j < 16 ? byte & 0x0F : byte >> 4) - 8
    }
    return Float(q) * blockScale(scales, b)
}
