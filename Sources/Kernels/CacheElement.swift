// How a KV cache stores its keys and values, and the conversions to and from f32.
//
// Activations are computed in f32; a cache of bf16 or f16 rounds each key and value once when it
// is written (round to nearest even) and widens it when attention reads it, halving the memory
// a position takes. bf16 keeps f32's range (8 exponent bits, 8 significant bits); f16 has 3 more
// significant bits but overflows past 65504.

/// The element type of a KV cache.
public enum CacheElement: String, Sendable, CaseIterable {
    case f32, bf16, f16

    /// Bytes one element takes.
    public var byteSize: Int { self == .f32 ? 4 : 2 }

    /// The weight type of the same bytes, whose decoders read them.
    var weightType: WeightType {
        switch self {
        case .f32: .f32
        case .bf16: .bf16
        case .f16: .f16
        }
    }

    /// The default: f32, the exact activations.
    public static let standard = CacheElement.f32
}

/// One f32 rounded to bf16 bits (nearest, ties to even; NaN stays NaN).
@inline(__always) @usableFromInline
func encodeBF16(_ x: Float) -> UInt16 {
    let bits = x.bitPattern
    if x.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
    return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
}

/// Writes `count` f32 values as `element` at `dst` (count * element.byteSize bytes).
public func storeCacheRow(_ dst: UnsafeMutableRawPointer, _ src: UnsafePointer<Float>, element: CacheElement, count: Int) {
    switch element {
    case .f32:
        dst.copyMemory(from: src, byteCount: count * 4)
    case .bf16:
        let out = dst.assumingMemoryBound(to: UInt16.self)
        for i in 0..<count { out[i] = encodeBF16(src[i]) }
    case .f16:
        let out = dst.assumingMemoryBound(to: Float16.self)
        for i in 0..<count { out[i] = Float16(src[i]) }
    }
}

/// Reads `count` values of `element` at `src` into f32 `dst`.
public func loadCacheRow(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafeRawPointer, element: CacheElement, count: Int) {
    convertToFloat(dst, src, type: element.weightType, count: count)
}

/// 16 consecutive cache elements, widened to f32: one type per conformer, so the attention
/// loops specialise on it.
@usableFromInline protocol CacheRows {
    static var byteSize: Int { get }
    static func load16(_ p: UnsafeRawPointer) -> SIMD16<Float>
    static func element(_ p: UnsafeRawPointer, _ i: Int) -> Float
}

@usableFromInline enum F32CacheRows: CacheRows {
    @inline(__always) @usableFromInline static var byteSize: Int { 4 }
    @inline(__always) @usableFromInline static func load16(_ p: UnsafeRawPointer) -> SIMD16<Float> { loadF32x16(p) }
    @inline(__always) @usableFromInline static func element(_ p: UnsafeRawPointer, _ i: Int) -> Float { loadElement(p, i, .f32) }
}

@usableFromInline enum BF16CacheRows: CacheRows {
    @inline(__always) @usableFromInline static var byteSize: Int { 2 }
    @inline(__always) @usableFromInline static func load16(_ p: UnsafeRawPointer) -> SIMD16<Float> { loadBF16x16(p) }
    @inline(__always) @usableFromInline static func element(_ p: UnsafeRawPointer, _ i: Int) -> Float { loadElement(p, i, .bf16) }
}

@usableFromInline enum F16CacheRows: CacheRows {
    @inline(__always) @usableFromInline static var byteSize: Int { 2 }
    @inline(__always) @usableFromInline static func load16(_ p: UnsafeRawPointer) -> SIMD16<Float> { loadF16x16(p) }
    @inline(__always) @usableFromInline static func element(_ p: UnsafeRawPointer, _ i: Int) -> Float { loadElement(p, i, .f16) }
}
