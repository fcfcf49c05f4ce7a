// RMSNorm: out = x · 1/sqrt(mean(x²) + eps) · weight, per row.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// RMS-normalises each row of x and multiplies by `weight`. `out` may alias `x`.
///
/// - Parameters:
///   - out: (rows, dim) f32.
///   - x: (rows, dim) f32.
///   - weight: (dim) f32 gain.
///   - dim: row length.
///   - rows: number of rows.
///   - eps: added to the mean square before the square root.
public func rmsnorm(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                    dim: Int, rows: Int = 1, eps: Float) {
    for r in 0..<rows {
        let xr = x + r * dim, outr = out + r * dim
        let meanSquare = dot(xr, xr, count: dim) / Float(dim)
        let inv = 1 / sqrtf(meanSquare + eps)
        let s = Vec(repeating: inv)
        var i = 0
        while i + 16 <= dim {
            store16(load16(xr + i) * s * load16(weight + i), outr + i)
            i += 16
        }
        while i < dim {
            outr[i] = xr[i] * inv * weight[i]
            i += 1
        }
    }
}
