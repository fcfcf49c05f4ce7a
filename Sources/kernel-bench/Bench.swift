import Kernels
#if canImport(Glibc)
import Glibc
#endif

/// Random f32 values in [-1, 1) from a fixed-seed xorshift.
func fillRandom(_ p: UnsafeMutablePointer<Float>, _ count: Int, seed: UInt64) {
    var s = seed | 1
    for i in 0..<count {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17
        p[i] = Float(Int64(bitPattern: s >> 40) - (1 << 23)) / Float(1 << 23)
    }
}

/// Bytes of an (n, k) weight matrix of `type` (quantized: codes and scales).
func weightBytes(n: Int, k: Int, type: WeightType) -> Int {
    n * type.rowBytes(k) + (type.isQuantized ? n * (k / quantBlock) * 2 : 0)
}

/// A weight matrix (n, k) of `type` with random values; also an f32 copy for the references
/// (for quantized types the random values as quantized; k a multiple of 32).
final class TestWeights {
    let n: Int, k: Int, type: WeightType
    let f32: UnsafeMutablePointer<Float>
    let raw: UnsafeMutableRawPointer
    /// (n, k / 32) f16 scales of quantized types.
    let scales: UnsafeMutableRawPointer?
    var matrix: WeightMatrix { matrix(.preferred) }
    /// The matrix, multiplied by matvec with `products` if quantized.
    func matrix(_ products: QuantizedProducts) -> WeightMatrix {
        var w = WeightMatrix(base: raw, type: type, rows: n, cols: k, scales: scales.map { UnsafeRawPointer($0) })
        w.quantizedProducts = products
        return w
    }

    init(n: Int, k: Int, type: WeightType, seed: UInt64 = 7) {
        self.n = n; self.k = k; self.type = type
        f32 = .allocate(capacity: n * k)
        fillRandom(f32, n * k, seed: seed)
        raw = .allocate(byteCount: n * type.rowBytes(k), alignment: 64)
        scales = type.isQuantized ? .allocate(byteCount: n * (k / quantBlock) * 2, alignment: 64) : nil
        if let scales {
            precondition(quantize(f32, count: n * k, as: type, codes: raw, scales: scales))
            dequantize(codes: raw, scales: scales, type: type, count: n * k, into: f32)
            return
        }
        for i in 0..<(n * k) {
            switch type {
            case .f32: raw.storeBytes(of: f32[i], toByteOffset: 4 * i, as: Float.self)
            case .bf16: raw.storeBytes(of: UInt16(f32[i].bitPattern >> 16), toByteOffset: 2 * i, as: UInt16.self)
            case .f16: raw.storeBytes(of: Float16(f32[i]), toByteOffset: 2 * i, as: Float16.self)
            case .q8_0, .q4_0: break
            }
        }
    }
    deinit { f32.deallocate(); raw.deallocate(); scales?.deallocate() }
}

func runBenchmarks(sections: Set<String>) {
    let pool1 = ThreadPool(threadCount: 1)
    let pool2 = ThreadPool(threadCount: 2)
    let blas = OpenBLAS()
    print("kernel-bench: \(ThreadPool.coreCount) cores; OpenBLAS: \(blas.map { "loaded, core \($0.coreName)" } ?? "not found")")

    var peak = 0.0
    if sections.contains("peak") || sections.contains("matmul") {
        peak = FMAPeak.measureGFLOPs()
        print("Peak estimate (1 thread): \(fmt(peak)) GFLOP/s, measured with 24 independent SIMD16 FMA chains")
        print("  (= clock actually reached x 2 FMA pipes x 16 lanes x 2 flops; 2 threads: 2x that)")
    }
    if sections.contains("peak") || sections.contains("matvec") {
        let bw1 = measureReadBandwidth(pool: pool1)
        let bw2 = measureReadBandwidth(pool: pool2)
        print("Read bandwidth (sum of 256 MiB): 1 thread \(fmt(bw1)) GB/s, 2 threads \(fmt(bw2)) GB/s")
    }
    if sections.contains("quick") { benchQuick(pool1: pool1) }
    if sections.contains("pool") { benchPool(pool2: pool2) }
    if sections.contains("matmul") { benchMatmul(pool1: pool1, pool2: pool2, blas: blas, peak: peak) }
    if sections.contains("matvec") { benchMatvec(pool1: pool1, pool2: pool2) }
    if sections.contains("qmatmul") { benchQuantizedMatmul(pool1: pool1, pool2: pool2) }
    if sections.contains("packed") { benchPackedDecode() }
}

func benchMatmul(pool1: ThreadPool, pool2: ThreadPool, blas: OpenBLAS?, peak: Double) {
    let shapes: [(m: Int, k: Int, n: Int)] = [
        (128, 384, 384), (128, 384, 1536), (128, 1536, 384), (256, 768, 768),
        (512, 192, 576), (512, 384, 1536), (512, 1536, 384), (512, 1536, 1536),
    ]
    print("\nmatmul Y(M,N) = X(M,K)·Wᵀ, GFLOP/s (2·M·N·K / best time); T = threads")
    let header = ["M", "K", "N", "f32 1T", "f32 2T", "bf16 1T", "bf16 2T", "f16 1T", "naive 1T",
                  "BLAS 1T", "BLAS 2T", "f32/BLAS 1T", "f32 1T %peak"]
    print(header.map { pad($0, 9) }.joined(separator: " "))
    for s in shapes {
        let x = UnsafeMutablePointer<Float>.allocate(capacity: s.m * s.k)
        let y = UnsafeMutablePointer<Float>.allocate(capacity: s.m * s.n)
        defer { x.deallocate(); y.deallocate() }
        fillRandom(x, s.m * s.k, seed: 3)
        let flops = 2.0 * Double(s.m * s.n * s.k)
        func gflops(_ t: Double) -> Double { flops / t / 1e9 }
        var row: [String] = ["\(s.m)", "\(s.k)", "\(s.n)"]
        var f32One = 0.0
        for type in [WeightType.f32, .bf16, .f16] {
            let w = TestWeights(n: s.n, k: s.k, type: type)
            let pools = type == .f16 ? [pool1] : [pool1, pool2]
            for pool in pools {
                let g = gflops(bestTime { matmul(y, x, w.matrix, m: s.m, pool: pool) })
                if type == .f32 && pool === pool1 { f32One = g }
                row.append(fmt(g))
            }
        }
        let w = TestWeights(n: s.n, k: s.k, type: .f32)
        row.append(fmt(gflops(bestTime(budget: 0.1) { naiveMatmul(y, x, w.f32, m: s.m, n: s.n, k: s.k) })))
        var blasOne = Double.nan
        if let blas {
            for threads in [1, 2] {
                blas.setThreads?(Int32(threads))
                let g = gflops(bestTime { blas.sgemm(y, x, w.f32, m: s.m, n: s.n, k: s.k) })
                if threads == 1 { blasOne = g }
                row.append(fmt(g))
            }
        } else {
            row += ["-", "-"]
        }
        row.append(fmt(f32One / blasOne, 2))
        row.append(peak > 0 ? fmt(100 * f32One / peak, 0) + "%" : "-")
        print(row.map { pad($0, 9) }.joined(separator: " "))
    }
}

/// Matmuls of more rows than matvec takes with quantized weights: the exact products (panels
/// dequantized per call into the f32 kernel) against the int8 ones (QuantizedDot.c), hot W.
func benchQuantizedMatmul(pool1: ThreadPool, pool2: ThreadPool) {
    let shapes: [(k: Int, n: Int)] = [(512, 1536), (1536, 512), (1024, 1024), (1024, 4096)]
    print("\nquantized matmul Y(M,N) = X(M,K)·Wᵀ, GFLOP/s (2·M·N·K / best time): /x exact products, /i8 int8\(QuantizedProducts.int8Available ? "" : " (not in this build: both exact)")")
    let header = ["K", "N", "type", "M", "/x 1T", "/i8 1T", "i8/x 1T", "/x 2T", "/i8 2T", "i8/x 2T"]
    print(header.map { pad($0, 8) }.joined(separator: " "))
    for s in shapes {
        for type in [WeightType.q8_0, .q4_0] {
            let w = TestWeights(n: s.n, k: s.k, type: type)
            for m in [8, 16, 24, 32, 48, 64, 512] {
                let x = UnsafeMutablePointer<Float>.allocate(capacity: m * s.k)
                let y = UnsafeMutablePointer<Float>.allocate(capacity: m * s.n)
                defer { x.deallocate(); y.deallocate() }
                fillRandom(x, m * s.k, seed: 6)
                let flops = 2.0 * Double(m * s.n * s.k)
                var row = ["\(s.k)", "\(s.n)", "\(type)", "\(m)"]
                for pool in [pool1, pool2] {
                    let gx = flops / bestTime(budget: 0.2) { matmul(y, x, w.matrix(.exact), m: m, pool: pool) } / 1e9
                    let gi = flops / bestTime(budget: 0.2) { matmul(y, x, w.matrix(.int8), m: m, pool: pool) } / 1e9
                    row += [fmt(gx), fmt(gi), fmt(gi / gx, 2)]
                }
                print(row.map { pad($0, 8) }.joined(separator: " "))
            }
        }
    }
}

func benchMatvec(pool1: ThreadPool, pool2: ThreadPool) {
    let shapes: [(k: Int, n: Int)] = [(384, 1152), (384, 1536), (1536, 384), (768, 3072), (3072, 768), (4096, 8192)]
    print("\nmatvec (decode) Y(M,N) = X(M,K)·Wᵀ, GB/s of weights streamed (bytes(W) / best time)")
    print("hot: the same W every call (cache-resident when small); cold: cycling over copies of W totalling >= 256 MiB (from DRAM)")
    print("quantized types: /x the exact products (f32), /i8 the int8 dot products (QuantizedDot.swift)\(QuantizedProducts.int8Available ? "" : ", not in this build")")
    let header = ["K", "N", "type", "M", "hot 1T", "hot 2T", "cold 1T", "cold 2T", "naive 1T"]
    print(header.map { pad($0, 8) }.joined(separator: " "))
    let kinds: [(WeightType, QuantizedProducts)] = [(.f32, .exact), (.bf16, .exact), (.f16, .exact),
                                                    (.q8_0, .exact), (.q8_0, .int8), (.q4_0, .exact), (.q4_0, .int8)]
    for s in shapes {
        for (type, products) in kinds {
            let bytes = weightBytes(n: s.n, k: s.k, type: type)
            let copies = max(1, (256 << 20) / bytes)
            let ws = (0..<copies).map { TestWeights(n: s.n, k: s.k, type: type, seed: UInt64($0 + 1)) }
            for m in [1, 4] {
                let x = UnsafeMutablePointer<Float>.allocate(capacity: m * s.k)
                let y = UnsafeMutablePointer<Float>.allocate(capacity: m * s.n)
                defer { x.deallocate(); y.deallocate() }
                fillRandom(x, m * s.k, seed: 5)
                let label = type.isQuantized ? "\(type)/\(products == .int8 ? "i8" : "x")" : "\(type)"
                var row = ["\(s.k)", "\(s.n)", label, "\(m)"]
                let mats = ws.map { $0.matrix(products) }
                for pool in [pool1, pool2] {
                    let t = bestTime(budget: 0.2) { matvec(y, x, mats[0], m: m, pool: pool) }
                    row.append(fmt(Double(bytes) / t / 1e9))
                }
                for pool in [pool1, pool2] {
                    var next = 0
                    let t = bestTime(budget: 0.3) {
                        for _ in 0..<4 {
                            matvec(y, x, mats[next], m: m, pool: pool)
                            next = (next + 1) % copies
                        }
                    }
                    row.append(fmt(4 * Double(bytes) / t / 1e9))
                }
                if type == .f32 {
                    let t = bestTime(budget: 0.1) { naiveMatmul(y, x, ws[0].f32, m: m, n: s.n, k: s.k) }
                    row.append(fmt(Double(bytes) / t / 1e9))
                } else {
                    row.append("-")
                }
                print(row.map { pad($0, 8) }.joined(separator: " "))
            }
        }
    }
}

/// One prefill and one decode figure per dtype, single thread (to compare builds).
func benchQuick(pool1: ThreadPool) {
    let (m, k, n) = (256, 768, 768)
    let x = UnsafeMutablePointer<Float>.allocate(capacity: m * k)
    let y = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
    defer { x.deallocate(); y.deallocate() }
    fillRandom(x, m * k, seed: 3)
    for type in [WeightType.f32, .bf16, .f16] {
        let w = TestWeights(n: n, k: k, type: type)
        let t = bestTime { matmul(y, x, w.matrix, m: m, pool: pool1) }
        let tv = bestTime { matvec(y, x, w.matrix, m: 1, pool: pool1) }
        print("quick \(type): matmul \(m)x\(k)x\(n) \(fmt(2.0 * Double(m * n * k) / t / 1e9)) GFLOP/s; "
              + "matvec 1x\(k)x\(n) \(fmt(Double(n * k * type.byteSize) / tv / 1e9)) GB/s (hot)")
    }
}

/// Cost of one `parallelFor` hand-off with an empty body (2 threads; worker spinning or asleep).
func benchPool(pool2: ThreadPool) {
    let calls = 20_000
    let t0 = now()
    for _ in 0..<calls { pool2.parallelFor(2) { _ in } }
    let hot = (now() - t0) / Double(calls)
    var slept = Double.infinity
    for _ in 0..<20 {
        usleep(2000)  // long enough for the worker to stop spinning and sleep
        let t = now()
        pool2.parallelFor(2) { _ in }
        slept = min(slept, now() - t)
    }
    print("parallelFor hand-off, 2 threads: \(fmt(hot * 1e6, 2)) us back to back, \(fmt(slept * 1e6, 1)) us (best) when the worker was asleep")
}

/// Batched decode shapes with weights packed at load: bf16 weights as bf16 pairs (what a bf16
/// model gets) against the same values packed as f32, one thread. `cold` cycles over copies
/// totalling >= 64 MiB, beyond L2 and most of L3, as a lane's step streams many matrices.
func benchPackedDecode() {
    // (K, N): the shipped model's token-level matrices and its LM head, and a wider FFN.
    let shapes: [(k: Int, n: Int)] = [(128, 384), (384, 128), (128, 8192), (768, 3072)]
    print("\nbatched decode, weights packed at load, 1 thread: GFLOP/s (2·M·N·K / best time)")
    print("hot: the same W every call; cold: cycling over copies of W totalling >= 64 MiB")
    let header = ["K", "N", "M", "f32 hot", "bf16p hot", "ratio", "f32 cold", "bf16p cold", "ratio"]
    print(header.map { pad($0, 10) }.joined(separator: " "))
    for s in shapes {
        let copies = max(2, (64 << 20) / (s.n * s.k * 2))
        let ws = (0..<copies).map { TestWeights(n: s.n, k: s.k, type: .bf16, seed: UInt64($0 + 1)) }
        let packer = PackedWeights()
        // Same values both ways: the bf16 weights, and their f32 widening packed as f32.
        let asF32 = ws.map { w -> (WeightMatrix, UnsafeMutablePointer<Float>) in
            let wide = UnsafeMutablePointer<Float>.allocate(capacity: s.n * s.k)
            convertToFloat(wide, w.raw, type: .bf16, count: s.n * s.k)
            return (packer.pack(WeightMatrix(f32: wide, rows: s.n, cols: s.k)), wide)
        }
        defer { for (_, wide) in asF32 { wide.deallocate() } }
        let asPairs = ws.map { packer.pack($0.matrix) }
        // The packer owns every packed copy; ARC may free it after its last use otherwise.
        defer { withExtendedLifetime(packer) {} }
        for m in [4, 8, 16] {
            let x = UnsafeMutablePointer<Float>.allocate(capacity: m * s.k)
            let y = UnsafeMutablePointer<Float>.allocate(capacity: m * s.n)
            defer { x.deallocate(); y.deallocate() }
            fillRandom(x, m * s.k, seed: 5)
            let flops = 2.0 * Double(m * s.n * s.k)
            func hot(_ w: WeightMatrix) -> Double { flops / bestTime(budget: 0.15) { matmul(y, x, w, m: m) } / 1e9 }
            func cold(_ ws: [WeightMatrix]) -> Double {
                var next = 0
                let t = bestTime(budget: 0.2) {
                    for _ in 0..<4 {
                        matmul(y, x, ws[next], m: m)
                        next = (next + 1) % ws.count
                    }
                }
                return 4 * flops / t / 1e9
            }
            let (fh, bh) = (hot(asF32[0].0), hot(asPairs[0]))
            let (fc, bc) = (cold(asF32.map(\.0)), cold(asPairs))
            let row = ["\(s.k)", "\(s.n)", "\(m)", fmt(fh), fmt(bh), fmt(bh / fh, 2), fmt(fc), fmt(bc), fmt(bc / fc, 2)]
            print(row.map { pad($0, 10) }.joined(separator: " "))
        }
    }
}
