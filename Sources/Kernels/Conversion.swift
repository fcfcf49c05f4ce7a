// Decoding bf16 / f16 weights to f32 in registers.
//
// bf16 is the top half of an f32, so decoding is a widen + shift. f16 uses the hardware
// conversion (F16C / AVX-512) when the target has it.
//
// Why lane loops: Swift 6.3's generic SIMD conversions (`SIMD16<UInt32>(truncatingIfNeeded:)`,
// `SIMD8<Float>(SIMD8<Float16>)`) and `evenHalf` / `oddHalf` are *calls* that are not inlined,
// even in -O. Written as a loop over constant lanes, LLVM folds them to one instruction each
// (`vpmovzxwd`, `vcvtph2ps zmm`, `vpermi2ps`).

/// 16 consecutive f32 values at `p` (any alignment).
@inline(__always) @usableFromInline
func loadF32x16(_ p: UnsafeRawPointer) -> SIMD16<Float> {
    p.loadUnaligned(as: SIMD16<Float>.self)
}

/// 16 consecutive bf16 values at `p`, decoded to f32.
@inline(__always) @usableFromInline
func loadBF16x16(_ p: UnsafeRawPointer) -> SIMD16<Float> {
    let raw = p.loadUnaligned(as: SIMD16<UInt16>.self)
    var wide = SIMD16<UInt32>()
    for i in 0..<16 { wide[i] = UInt32(raw[i]) }
    return unsafeBitCast(wide &<< 16, to: SIMD16<Float>.self)
}

/// 16 consecutive f16 values at `p`, decoded to f32.
@inline(__always) @usableFromInline
func loadF16x16(_ p: UnsafeRawPointer) -> SIMD16<Float> {
    let half = p.loadUnaligned(as: SIMD16<Float16>.self)
    var result = SIMD16<Float>()
    for i in 0..<16 { result[i] = Float(half[i]) }
    return result
}

/// Even lanes of a‖b, then odd lanes: (a0 a2 .. a14 b0 b2 .. b14), (a1 a3 .. b15).
@inline(__always) @usableFromInline
func unzip(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> (even: SIMD16<Float>, odd: SIMD16<Float>) {
    var even = SIMD16<Float>(), odd = SIMD16<Float>()
    for i in 0..<8 {
        even[i] = a[2 * i]; odd[i] = a[2 * i + 1]
        even[i + 8] = b[2 * i]; odd[i + 8] = b[2 * i + 1]
    }
    return (even, odd)
}

/// One bf16 value decoded to f32.
@inline(__always) @usableFromInline
func decodeBF16(_ bits: UInt16) -> Float {
    Float(bitPattern: UInt32(bits) << 16)
}

/// One element `i` of a weight row starting at `p`, decoded to f32 (scalar tails).
@inline(__always) @usableFromInline
func loadElement(_ p: UnsafeRawPointer, _ i: Int, _ type: WeightType) -> Float {
    switch type {
    case .f32: return p.loadUnaligned(fromByteOffset: i * 4, as: Float.self)
    case .bf16: return decodeBF16(p.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
    case .f16: return Float(p.loadUnaligned(fromByteOffset: i * 2, as: Float16.self))
    case .q8_0, .q4_0: fatalError("a quantized element needs its scale: WeightMatrix.element")
    }
}

/// Decodes `count` elements of float `type` at `src` into f32 (quantized rows need their scales
/// too: `WeightMatrix.decodeRow`).
/// - Parameters:
///   - dst: (count) f32 output.
///   - src: (count) elements of `type`, any alignment.
public func convertToFloat(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafeRawPointer, type: WeightType, count: Int) {
    var i = 0
    switch type {
    case .f32:
        UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: count * 4)
        return
    case .bf16:
        while i + 16 <= count {
            UnsafeMutableRawPointer(dst + i).storeBytes(of: loadBF16x16(src + 2 * i), as: SIMD16<Float>.self)
            i += 16
        }
    case .f16:
        while i + 16 <= count {
            UnsafeMutableRawPointer(dst + i).storeBytes(of: loadF16x16(src + 2 * i), as: SIMD16<Float>.self)
            i += 16
        }
    case .q8_0, .q4_0:
        fatalError("quantized rows need their scales: WeightMatrix.decodeRow")
    }
    while i < count {
        dst[i] = loadElement(src, i, type)
        i += 1
    }
}
