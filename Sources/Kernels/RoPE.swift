// Rotary position embedding, "rotate-half" convention (GPT-NeoX / Llama in Hugging Face):
// within each head, element i pairs with i + d/2 (d = head_dim) and the pair is rotated by
// angle = position · theta^(-2i/d):
//   out[i]       = x[i] · cos − x[i + d/2] · sin
//   out[i + d/2] = x[i + d/2] · cos + x[i] · sin
// Frequencies and angles are computed in f32 as PyTorch does, so results match the reference.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct RoPE: Sendable {
    /// Elements per head (even).
    public let headDim: Int
    public let theta: Float
    /// (headDim / 2) inverse frequencies theta^(-2i/d).
    public let inverseFrequencies: [Float]

    public init(headDim: Int, theta: Float = 10_000) {
        precondition(headDim > 0 && headDim % 2 == 0, "RoPE head_dim must be even and positive, got \(headDim)")
        self.headDim = headDim
        self.theta = theta
        inverseFrequencies = (0..<(headDim / 2)).map { i in
            1 / powf(theta, Float(2 * i) / Float(headDim))
        }
    }

    /// Rotates every head of one row in place.
    /// - Parameters:
    ///   - x: (heads, headDim) f32, i.e. one [n_heads * head_dim] vector.
    ///   - heads: number of heads in the row.
    ///   - position: token position of the row.
    public func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, position: Int) {
        let half = headDim / 2
        let p = Float(position)
        inverseFrequencies.withUnsafeBufferPointer { frequencies in
            var i = 0
            while i + 16 <= half {
                var c = Vec(), s = Vec()
                for j in 0..<16 {
                    let angle = p * frequencies[i + j]
                    c[j] = cosf(angle)
                    s[j] = sinf(angle)
                }
                for h in 0..<heads {
                    let a = x + h * headDim + i, b = a + half
                    let x1 = load16(a), x2 = load16(b)
                    store16(x1 * c - x2 * s, a)
                    store16(x2 * c + x1 * s, b)
                }
                i += 16
            }
            while i < half {
                let angle = p * frequencies[i]
                let c = cosf(angle), s = sinf(angle)
                for h in 0..<heads {
                    let a = x + h * headDim + i, b = a + half
                    let x1 = a.pointee, x2 = b.pointee
                    a.pointee = x1 * c - x2 * s
                    b.pointee = x2 * c + x1 * s
                }
                i += 1
            }
        }
    }

    /// Rotates several rows in place, each at its own position.
    /// - Parameters:
    ///   - x: (rows, heads, headDim) f32.
    ///   - rows: number of rows.
    ///   - heads: heads per row.
    ///   - positions: (rows) token position of each row.
    public func apply(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, positions: UnsafePointer<Int>) {
        for r in 0..<rows {
            apply(x + r * heads * headDim, heads: heads, position: positions[r])
        }
    }
}
