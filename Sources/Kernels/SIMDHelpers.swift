// Lane-wise helpers written as constant-count loops.
//
// Swift 6.3's generic SIMD methods (`pointwiseMin`, `replacing(with:where:)`, conversions) are
// often emitted as calls; these loops fold to single instructions (vminps, vmaxps, vblendmps).

@usableFromInline typealias Vec = SIMD16<Float>

@inline(__always) @usableFromInline
func lanewiseMin(_ a: Vec, _ b: Vec) -> Vec {
    // A compare and a blend (vminps); a per-lane loop is not reliably vectorised.
    a.replacing(with: b, where: b .< a)
}

@inline(__always) @usableFromInline
func lanewiseMax(_ a: Vec, _ b: Vec) -> Vec {
    a.replacing(with: b, where: b .> a)
}

/// Loads 16 floats at `p` (any alignment).
@inline(__always) @usableFromInline
func load16(_ p: UnsafePointer<Float>) -> Vec {
    UnsafeRawPointer(p).loadUnaligned(as: Vec.self)
}

/// Stores 16 floats at `p` (any alignment).
@inline(__always) @usableFromInline
func store16(_ v: Vec, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec.self)
}

/// Largest lane.
@inline(__always) @usableFromInline
func horizontalMax(_ v: Vec) -> Float {
    var m = v[0]
    for i in 1..<16 where v[i] > m { m = v[i] }
    return m
}
