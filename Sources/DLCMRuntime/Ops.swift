import Foundation

// Small per-row operations of the forward pass. The matrix products live in the Kernels module;
// these are memory-light loops kept simple and SIMD-friendly.

/// out[i] = x[i] / sqrt(mean(x²) + eps) * w[i], for one row of n.
@inline(__always)
func rmsnorm(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ n: Int, eps: Float) {
    let ss = dot(x, x, n)
    let scale = 1 / (ss / Float(n) + eps).squareRoot()
    for i in 0..<n { out[i] = x[i] * scale * w[i] }
}

/// Dot product of two rows of n.
@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD16<Float>()
    var i = 0
    while i + 16 <= n {
        let va = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self)
        let vb = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self)
        acc.addProduct(va, vb)
        i += 16
    }
    var s = acc.sum()
    while i < n { s += a[i] * b[i]; i += 1 }
    return s
}

/// y[i] += a * x[i].
@inline(__always)
func axpy(_ y: UnsafeMutablePointer<Float>, _ a: Float, _ x: UnsafePointer<Float>, _ n: Int) {
    var i = 0
    let va = SIMD16<Float>(repeating: a)
    while i + 16 <= n {
        let vx = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
        var vy = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
        vy.addProduct(va, vx)
        UnsafeMutableRawPointer(y + i).storeBytes(of: vy, as: SIMD16<Float>.self)
        i += 16
    }
    while i < n { y[i] += a * x[i]; i += 1 }
}

/// In-place numerically stable softmax of n scores.
@inline(__always)
func softmax(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    var m = -Float.infinity
    for i in 0..<n where x[i] > m { m = x[i] }
    var s: Float = 0
    for i in 0..<n { let e = expf(x[i] - m); x[i] = e; s += e }
    let inv = 1 / s
    for i in 0..<n { x[i] *= inv }
}

/// a[i] = silu(a[i]) * b[i] (the SwiGLU gate).
@inline(__always)
func siluMul(_ a: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) {
    for i in 0..<n {
        let g = a[i]
        a[i] = g / (1 + expf(-g)) * b[i]
    }
}

/// RoPE tables for one head dim in the rotate-half convention: for position p and pair i < hd/2,
/// angle p * theta^(-2i/hd), computed in double precision like the reference.
final class RoPETable {
    let half: Int
    let positions: Int
    private let cosTable: [Float]   // (positions, half)
    private let sinTable: [Float]   // (positions, half)

    init(headDim: Int, theta: Double, positions: Int) {
        half = headDim / 2
        self.positions = positions
        var c = [Float](repeating: 0, count: positions * half)
        var s = [Float](repeating: 0, count: positions * half)
        for i in 0..<half {
            let inv = pow(theta, -Double(2 * i) / Double(headDim))
            for p in 0..<positions {
                let a = Double(p) * inv
                c[p * half + i] = Float(cos(a))
                s[p * half + i] = Float(sin(a))
            }
        }
        cosTable = c
        sinTable = s
    }

    /// Rotates each of `heads` heads of x (heads * 2 * half floats) for position `pos`.
    @inline(__always)
    func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, pos: Int) {
        cosTable.withUnsafeBufferPointer { cb in
            sinTable.withUnsafeBufferPointer { sb in
                let c = cb.baseAddress! + pos * half, s = sb.baseAddress! + pos * half
                for h in 0..<heads {
                    let v = x + h * 2 * half
                    for i in 0..<half {
                        let a = v[i], b = v[i + half]
                        v[i] = a * c[i] - b * s[i]
                        v[i + half] = b * c[i] + a * s[i]
                    }
                }
            }
        }
    }
}
