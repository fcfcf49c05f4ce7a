import Kernels

/// The obvious triple loop, for comparison. y: (m, n), x: (m, k), w: (n, k) f32.
@inline(never)
func naiveMatmul(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                 m: Int, n: Int, k: Int) {
    for i in 0..<m {
        for j in 0..<n {
            var s: Float = 0
            for l in 0..<k { s += x[i * k + l] * w[j * k + l] }
            y[i * n + j] = s
        }
    }
}

/// Measured read bandwidth (GB/s) of `threads` threads summing a 256 MiB buffer.
func measureReadBandwidth(pool: ThreadPool) -> Double {
    let count = 64 << 20  // floats
    let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
    defer { buffer.deallocate() }
    buffer.initialize(repeating: 1, count: count)
    let blocks = count / 16
    let t = bestTime(budget: 1.0) {
        pool.parallelFor(blocks, grain: 1 << 14) { range in
            typealias V = SIMD16<Float>
            var s0 = V(), s1 = V(), s2 = V(), s3 = V()
            let p = UnsafeRawPointer(buffer)
            var b = range.lowerBound
            while b + 4 <= range.upperBound {
                s0 += p.load(fromByteOffset: 64 * b, as: V.self)
                s1 += p.load(fromByteOffset: 64 * b + 64, as: V.self)
                s2 += p.load(fromByteOffset: 64 * b + 128, as: V.self)
                s3 += p.load(fromByteOffset: 64 * b + 192, as: V.self)
                b += 4
            }
            consume((s0 + s1 + s2 + s3).sum())
        }
    }
    return Double(count * 4) / t / 1e9
}

