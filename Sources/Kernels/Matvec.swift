// Y (+)= X · Wᵀ for a few rows of X (decode): memory-bound on streaming W.
//
// Each step reads 16 elements from 4 rows of W (decoded to f32 in registers; q8_0 / q4_0 rows
// in QuantizedMatvec.swift) and multiplies them with the same 16 elements of every X row, so W is
// read once for up to 4 rows of X. Split over groups of 4 rows of W across the thread pool.
//
// The 4 rows of a group are contiguous, but read as 4 interleaved short streams the hardware
// prefetcher barely trains on when rows are short. So for rows up to `matvecPrefetchRowBytes`,
// while a group is processed the next group's bytes are prefetched in step (each step prefetches
// as many bytes as it reads). Measured side by side on a 2-vCPU AMD EPYC (Zen 4), from DRAM
// (K=384..768): f32 13 -> 23 GB/s, bf16 8 -> 25 GB/s; with longer rows the hardware does well by
// itself and the extra instructions cost up to a third of the cache-resident speed, so they are
// skipped.

import CKernelSupport

/// Rows of W at most this long (bytes) get software prefetching.
@usableFromInline let matvecPrefetchRowBytes = 4096

/// Most X rows handled by the streaming path; `matmul` sends larger M to the packed kernel.
public let maxMatvecRows = 4

/// Don't hand out less weight data than this per thread (a hand-off costs about a microsecond
/// to a pool thread that is spinning, as it is between the matrices of a decode step). Measured
/// side by side in the serving engine (2 threads, alternating runs): 128 KiB -> 32 KiB made one
/// stream +15% and four +19% (the 64-256 KiB attention matrices of the backbone now split too);
/// 16 and 8 KiB were no better.
@usableFromInline let matvecMinBytesPerThread = 32 << 10

/// Y (+)= X · Wᵀ for 1...4 rows of X.
///
/// - Parameters:
///   - y: (m, w.rows) f32 output.
///   - x: (m, w.cols) f32 input.
///   - w: (N = w.rows, K = w.cols) weights.
///   - m: rows of X, 1...4 (0 does nothing).
///   - accumulate: add to Y instead of overwriting it.
///   - pool: threads to split over (nil: the calling thread only).
public func matvec(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: WeightMatrix,
                   m: Int, accumulate: Bool = false, pool: ThreadPool? = nil) {
    precondition(m >= 0 && m <= maxMatvecRows, "matvec handles 1...\(maxMatvecRows) rows, got \(m)")
    guard m > 0, w.rows > 0 else { return }
    let groups = (w.rows + 3) / 4
    let bytes = w.rows * w.rowStride
    let split = pool.map { $0.threadCount > 1 } == true && bytes >= 2 * matvecMinBytesPerThread
    let grain = max(1, matvecMinBytesPerThread / max(1, 4 * w.rowStride) / 4)
    if int8Matmul(y, x, w, m: m, accumulate: accumulate, pool: split ? pool : nil, grain: split ? grain : 0) { return }
    let run: (Range<Int>) -> Void = { range in matvecGroupRange(y, x, w, m: m, groups: range, accumulate: accumulate) }
    if split, let pool {
        pool.parallelFor(groups, grain: grain, run)
    } else {
        run(0..<groups)
    }
}

/// Rows 4*g ..< 4*g + 4 of Y for each group g, for 1...4 rows of X.
@inline(__always)
func matvecGroupRange(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: WeightMatrix,
                      m: Int, groups range: Range<Int>, accumulate: Bool) {
    switch (w.type, m) {
    case (.f32, 1): matvecGroups(y, x, w, .f32, m: 1, groups: range, accumulate: accumulate)
    case (.f32, 2): matvecGroups(y, x, w, .f32, m: 2, groups: range, accumulate: accumulate)
    case (.f32, 3): matvecGroups(y, x, w, .f32, m: 3, groups: range, accumulate: accumulate)
    case (.f32, _): matvecGroups(y, x, w, .f32, m: 4, groups: range, accumulate: accumulate)
    case (.bf16, 1): matvecGroups(y, x, w, .bf16, m: 1, groups: range, accumulate: accumulate)
    case (.bf16, 2): matvecGroups(y, x, w, .bf16, m: 2, groups: range, accumulate: accumulate)
    case (.bf16, 3): matvecGroups(y, x, w, .bf16, m: 3, groups: range, accumulate: accumulate)
    case (.bf16, _): matvecGroups(y, x, w, .bf16, m: 4, groups: range, accumulate: accumulate)
    case (.f16, 1): matvecGroups(y, x, w, .f16, m: 1, groups: range, accumulate: accumulate)
    case (.f16, 2): matvecGroups(y, x, w, .f16, m: 2, groups: range, accumulate: accumulate)
    case (.f16, 3): matvecGroups(y, x, w, .f16, m: 3, groups: range, accumulate: accumulate)
    case (.f16, _): matvecGroups(y, x, w, .f16, m: 4, groups: range, accumulate: accumulate)
    case (.q8_0, 1): quantizedMatvecGroups(y, x, w, .q8_0, m: 1, groups: range, accumulate: accumulate)
    case (.q8_0, 2): quantizedMatvecGroups(y, x, w, .q8_0, m: 2, groups: range, accumulate: accumulate)
    case (.q8_0, 3): quantizedMatvecGroups(y, x, w, .q8_0, m: 3, groups: range, accumulate: accumulate)
    case (.q8_0, _): quantizedMatvecGroups(y, x, w, .q8_0, m: 4, groups: range, accumulate: accumulate)
    case (.q4_0, 1): quantizedMatvecGroups(y, x, w, .q4_0, m: 1, groups: range, accumulate: accumulate)
    case (.q4_0, 2): quantizedMatvecGroups(y, x, w, .q4_0, m: 2, groups: range, accumulate: accumulate)
    case (.q4_0, 3): quantizedMatvecGroups(y, x, w, .q4_0, m: 3, groups: range, accumulate: accumulate)
    case (.q4_0, _): quantizedMatvecGroups(y, x, w, .q4_0, m: 4, groups: range, accumulate: accumulate)
    }
}

/// Sum of the 16 lanes (a tree, not a serial chain).
@inline(__always) @usableFromInline
func horizontalSum(_ v: SIMD16<Float>) -> Float {
    let a = v.lowHalf + v.highHalf
    let b = a.lowHalf + a.highHalf
    let c = b.lowHalf + b.highHalf
    return c[0] + c[1]
}

/// Rows 4*g ..< 4*g + 4 of Y for each group g (the last group may be partial), float W
/// (quantized W: QuantizedMatvec.swift). `type` (== w.type) and `m` are constants at each call site, so this specialises.
@inline(__always)
func matvecGroups(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: WeightMatrix,
                  _ type: WeightType, m: Int, groups: Range<Int>, accumulate: Bool) {
    // Two copies of the loop, so the one without prefetching carries no test for it.
    if w.rowStride <= matvecPrefetchRowBytes {
        matvecGroups(y, x, w, type, m: m, groups: groups, accumulate: accumulate, prefetch: true)
    } else {
        matvecGroups(y, x, w, type, m: m, groups: groups, accumulate: accumulate, prefetch: false)
    }
}

@inline(__always)
func matvecGroups(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: WeightMatrix,
                  _ type: WeightType, m: Int, groups: Range<Int>, accumulate: Bool, prefetch: Bool) {
    typealias V = SIMD16<Float>
    let n = w.rows, k = w.cols
    // X rows past m re-read row 0 (results unused).
    let x0 = x, x1 = x + (m > 1 ? k : 0), x2 = x + (m > 2 ? 2 * k : 0), x3 = x + (m > 3 ? 3 * k : 0)
    @inline(__always) func load(_ p: UnsafeRawPointer, _ i: Int) -> V {
        switch type {
        case .f32: return loadF32x16(p + 4 * i)
        case .bf16: return loadBF16x16(p + 2 * i)
        case .f16: return loadF16x16(p + 2 * i)
        case .q8_0, .q4_0: fatalError("quantized weights take quantizedMatvecGroups")
        }
    }
    for g in groups {
        let n0 = 4 * g
        let valid = min(4, n - n0)
        // Rows past the end of W re-read its last row (results discarded).
        let r0 = w.row(n0), r1 = w.row(n0 + min(1, valid - 1))
        let r2 = w.row(n0 + min(2, valid - 1)), r3 = w.row(n0 + min(3, valid - 1))
        // a<x row><w row>
        var a00 = V(), a01 = V(), a02 = V(), a03 = V()
        var a10 = V(), a11 = V(), a12 = V(), a13 = V()
        var a20 = V(), a21 = V(), a22 = V(), a23 = V()
        var a30 = V(), a31 = V(), a32 = V(), a33 = V()
        var i = 0
        // The next group starts right after this one (rows are contiguous).
        let nextGroup = r0 + 4 * w.rowStride
        let bytesPerStep = 4 * type.rowBytes(16)
        while i + 16 <= k {
            if prefetch {
                let ahead = nextGroup + 4 * type.rowBytes(i)
                for line in stride(from: 0, to: bytesPerStep, by: 64) { dlcm_prefetch(ahead + line) }
            }
            let w0 = load(r0, i), w1 = load(r1, i), w2 = load(r2, i), w3 = load(r3, i)
            var v = UnsafeRawPointer(x0 + i).loadUnaligned(as: V.self)
            a00 = a00.addingProduct(v, w0); a01 = a01.addingProduct(v, w1)
            a02 = a02.addingProduct(v, w2); a03 = a03.addingProduct(v, w3)
            if m > 1 {
                v = UnsafeRawPointer(x1 + i).loadUnaligned(as: V.self)
                a10 = a10.addingProduct(v, w0); a11 = a11.addingProduct(v, w1)
                a12 = a12.addingProduct(v, w2); a13 = a13.addingProduct(v, w3)
            }
            if m > 2 {
                v = UnsafeRawPointer(x2 + i).loadUnaligned(as: V.self)
                a20 = a20.addingProduct(v, w0); a21 = a21.addingProduct(v, w1)
                a22 = a22.addingProduct(v, w2); a23 = a23.addingProduct(v, w3)
            }
            if m > 3 {
                v = UnsafeRawPointer(x3 + i).loadUnaligned(as: V.self)
                a30 = a30.addingProduct(v, w0); a31 = a31.addingProduct(v, w1)
                a32 = a32.addingProduct(v, w2); a33 = a33.addingProduct(v, w3)
            }
            i += 16
        }
        var sums: (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>) = (
            SIMD4(horizontalSum(a00), horizontalSum(a01), horizontalSum(a02), horizontalSum(a03)),
            m > 1 ? SIMD4(horizontalSum(a10), horizontalSum(a11), horizontalSum(a12), horizontalSum(a13)) : .zero,
            m > 2 ? SIMD4(horizontalSum(a20), horizontalSum(a21), horizontalSum(a22), horizontalSum(a23)) : .zero,
            m > 3 ? SIMD4(horizontalSum(a30), horizontalSum(a31), horizontalSum(a32), horizontalSum(a33)) : .zero
        )
        // K tail: scalar.
        while i < k {
            let w4 = SIMD4(loadElement(r0, i, type), loadElement(r1, i, type),
                           loadElement(r2, i, type), loadElement(r3, i, type))
            sums.0 += x0[i] * w4
            if m > 1 { sums.1 += x1[i] * w4 }
            if m > 2 { sums.2 += x2[i] * w4 }
            if m > 3 { sums.3 += x3[i] * w4 }
            i += 1
        }
        @inline(__always) func store(_ r: Int, _ s: SIMD4<Float>) {
            let out = y + r * n + n0
            for j in 0..<valid { out[j] = accumulate ? out[j] + s[j] : s[j] }
        }
        store(0, sums.0)
        if m > 1 { store(1, sums.1) }
        if m > 2 { store(2, sums.2) }
        if m > 3 { store(3, sums.3) }
    }
}
