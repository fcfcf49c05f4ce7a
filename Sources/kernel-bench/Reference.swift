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

/// Measured FMA throughput of one thread: 24 independent SIMD16 FMA chains, in GFLOP/s.
/// Used as "peak": it already includes the clock the core actually runs at.
func measurePeakGFLOPs() -> Double {
    // Many short runs, best kept: a run that shares its core with another process is discarded.
    let iterations = 200_000
    let data = UnsafeMutablePointer<Float>.allocate(capacity: 32)
    defer { data.deallocate() }
    for i in 0..<32 { data[i] = i < 16 ? 1 + Float(i) * 1e-6 : 1e-7 }
    var best = 0.0
    for _ in 0..<40 {
        let t0 = now()
        consume(fmaLoop(data, iterations: iterations))
        best = max(best, Double(iterations) * 24 * 32 / (now() - t0) / 1e9)
    }
    return best
}

/// 24 independent FMA chains of `iterations` steps; data: (32) f32.
@inline(never)
func fmaLoop(_ data: UnsafePointer<Float>, iterations: Int) -> Float {
    typealias V = SIMD16<Float>
    let w = UnsafeRawPointer(data).load(as: V.self)
    var a0 = w, a1 = w, a2 = w, a3 = w, a4 = w, a5 = w
    var a6 = w, a7 = w, a8 = w, a9 = w, a10 = w, a11 = w
    var a12 = w, a13 = w, a14 = w, a15 = w, a16 = w, a17 = w
    var a18 = w, a19 = w, a20 = w, a21 = w, a22 = w, a23 = w
    for _ in 0..<iterations {
        let x = UnsafeRawPointer(data + 16).load(as: V.self)
        a0 = a0.addingProduct(x, w); a1 = a1.addingProduct(x, w); a2 = a2.addingProduct(x, w); a3 = a3.addingProduct(x, w)
        a4 = a4.addingProduct(x, w); a5 = a5.addingProduct(x, w); a6 = a6.addingProduct(x, w); a7 = a7.addingProduct(x, w)
        a8 = a8.addingProduct(x, w); a9 = a9.addingProduct(x, w); a10 = a10.addingProduct(x, w); a11 = a11.addingProduct(x, w)
        a12 = a12.addingProduct(x, w); a13 = a13.addingProduct(x, w); a14 = a14.addingProduct(x, w); a15 = a15.addingProduct(x, w)
        a16 = a16.addingProduct(x, w); a17 = a17.addingProduct(x, w); a18 = a18.addingProduct(x, w); a19 = a19.addingProduct(x, w)
        a20 = a20.addingProduct(x, w); a21 = a21.addingProduct(x, w); a22 = a22.addingProduct(x, w); a23 = a23.addingProduct(x, w)
    }
    return (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15 + a16 + a17 + a18 + a19 + a20 + a21 + a22 + a23).sum()
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

