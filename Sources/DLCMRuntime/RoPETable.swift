import Foundation

// RoPE with precomputed tables. Kernels has a RoPE that computes angles in f32 per call; the
// reference builds its tables in float64, and a table lookup is also cheaper per token, so the
// runtime keeps this one.

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
