// Y (+)= X · Wᵀ for 1...4 rows of X against q8_0 / q4_0 weights (decode).
//
// Matvec.swift's loop for quantized rows: each step reads one 32-weight block from 4 rows of W,
// widens its codes to f32 and multiplies them by the block's scale in registers, and FMAs them
// with the same 32 elements of every X row, so W is read once for up to 4 rows of X. For short
// rows the next group's codes are prefetched in step and its scales once per group, as there.
//
// The scale goes on the weights, not on a per-block partial sum: Float(q) * d is exact in f32
// (Quantization.swift), so every product and every sum is the one `matvec` makes on the
// dequantized f32 matrix, in the same order: the results are the same bit for bit (tested), and a
// quantized checkpoint computes what its dequantized f32 copy computes. It costs two multiplies
// per block of a W row, shared by the X rows; scaling a block's partial sum instead costs one FMA
// per block for every (X row, W row) pair, and rounds differently.

import CKernelSupport

/// Rows 4*g ..< 4*g + 4 of Y for each group g, for q8_0 / q4_0 W (`type` == w.type and `m`
/// are constants at each call site in `matvecGroupRange`, so this specialises).
@inline(__always)
func quantizedMatvecGroups(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: WeightMatrix,
                           _ type: WeightType, m: Int, groups: Range<Int>, accumulate: Bool) {
    // Two copies of the loop, so the one without prefetching carries no test for it.
    if w.rowStride <= matvecPrefetchRowBytes {
        quantizedMatvecGroups(y, x, w, type, m: m, groups: groups, accumulate: accumulate, prefetch: true)
    } else {
        quantizedMatvecGroups(y, x, w, type, m: m, groups: groups, accumulate: accumulate, prefetch: false)
    }
}

@inline(__always)
func quantizedMatvecGroups(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: WeightMatrix,
                           _ type: WeightType, m: Int, groups: Range<Int>, accumulate: Bool, prefetch: Bool) {
    typealias V = SIMD16<Float>
    let n = w.rows, k = w.cols
    let blocks = k / quantBlock
    // Bytes of codes per block of one row: 32 int8, or 16 bytes of nibble pairs.
    let blockBytes = type.rowBytes(quantBlock)
    // X rows past m re-read row 0 (results unused).
    let x0 = x, x1 = x + (m > 1 ? k : 0), x2 = x + (m > 2 ? 2 * k : 0), x3 = x + (m > 3 ? 3 * k : 0)
    @inline(__always) func load(_ codes: UnsafeRawPointer, _ scales: UnsafeRawPointer, _ b: Int) -> (V, V) {
        type == .q8_0 ? loadQ8Block(codes, scales, b) : loadQ4Block(codes, scales, b)
    }
    for g in groups {
        let n0 = 4 * g
        let valid = min(4, n - n0)
        // Rows past the end of W re-read its last row (results discarded).
        @inline(__always) func rowIndex(_ j: Int) -> Int { n0 + min(j, valid - 1) }
        let r0 = w.row(rowIndex(0)), r1 = w.row(rowIndex(1)), r2 = w.row(rowIndex(2)), r3 = w.row(rowIndex(3))
        let s0 = w.scaleRow(rowIndex(0)), s1 = w.scaleRow(rowIndex(1))
        let s2 = w.scaleRow(rowIndex(2)), s3 = w.scaleRow(rowIndex(3))
        // a<x row><w row>
        var a00 = V(), a01 = V(), a02 = V(), a03 = V()
        var a10 = V(), a11 = V(), a12 = V(), a13 = V()
        var a20 = V(), a21 = V(), a22 = V(), a23 = V()
        var a30 = V(), a31 = V(), a32 = V(), a33 = V()
        // The next group's codes and scales start right after this group's (rows are contiguous).
        let nextGroup = r0 + 4 * w.rowStride
        if prefetch {
            let nextScales = s0 + 4 * w.scaleRowStride
            for line in stride(from: 0, to: 4 * w.scaleRowStride, by: 64) { dlcm_prefetch(nextScales + line) }
        }
        for b in 0..<blocks {
            if prefetch {
                // As many bytes of the next group as this step reads of this one.
                let ahead = nextGroup + b * 4 * blockBytes
                for line in stride(from: 0, to: 4 * blockBytes, by: 64) { dlcm_prefetch(ahead + line) }
            }
            let (w0, v0) = load(r0, s0, b), (w1, v1) = load(r1, s1, b)
            let (w2, v2) = load(r2, s2, b), (w3, v3) = load(r3, s3, b)
            let i = b * quantBlock
            // Elements i ..< i + 16 against the blocks' first halves, then i + 16 ..< i + 32
            // against their second: matvec's order on the dequantized matrix.
            var lo = UnsafeRawPointer(x0 + i).loadUnaligned(as: V.self)
            var hi = UnsafeRawPointer(x0 + i + 16).loadUnaligned(as: V.self)
            a00 = a00.addingProduct(lo, w0).addingProduct(hi, v0); a01 = a01.addingProduct(lo, w1).addingProduct(hi, v1)
            a02 = a02.addingProduct(lo, w2).addingProduct(hi, v2); a03 = a03.addingProduct(lo, w3).addingProduct(hi, v3)
            if m > 1 {
                lo = UnsafeRawPointer(x1 + i).loadUnaligned(as: V.self)
                hi = UnsafeRawPointer(x1 + i + 16).loadUnaligned(as: V.self)
                a10 = a10.addingProduct(lo, w0).addingProduct(hi, v0); a11 = a11.addingProduct(lo, w1).addingProduct(hi, v1)
                a12 = a12.addingProduct(lo, w2).addingProduct(hi, v2); a13 = a13.addingProduct(lo, w3).addingProduct(hi, v3)
            }
            if m > 2 {
                lo = UnsafeRawPointer(x2 + i).loadUnaligned(as: V.self)
                hi = UnsafeRawPointer(x2 + i + 16).loadUnaligned(as: V.self)
                a20 = a20.addingProduct(lo, w0).addingProduct(hi, v0); a21 = a21.addingProduct(lo, w1).addingProduct(hi, v1)
                a22 = a22.addingProduct(lo, w2).addingProduct(hi, v2); a23 = a23.addingProduct(lo, w3).addingProduct(hi, v3)
            }
            if m > 3 {
                lo = UnsafeRawPointer(x3 + i).loadUnaligned(as: V.self)
                hi = UnsafeRawPointer(x3 + i + 16).loadUnaligned(as: V.self)
                a30 = a30.addingProduct(lo, w0).addingProduct(hi, v0); a31 = a31.addingProduct(lo, w1).addingProduct(hi, v1)
                a32 = a32.addingProduct(lo, w2).addingProduct(hi, v2); a33 = a33.addingProduct(lo, w3).addingProduct(hi, v3)
            }
        }
        // No K tail: the width is a whole number of blocks.
        @inline(__always) func store(_ r: Int, _ s: SIMD4<Float>) {
            let out = y + r * n + n0
            for j in 0..<valid { out[j] = accumulate ? out[j] + s[j] : s[j] }
        }
        store(0, SIMD4(horizontalSum(a00), horizontalSum(a01), horizontalSum(a02), horizontalSum(a03)))
        if m > 1 { store(1, SIMD4(horizontalSum(a10), horizontalSum(a11), horizontalSum(a12), horizontalSum(a13))) }
        if m > 2 { store(2, SIMD4(horizontalSum(a20), horizontalSum(a21), horizontalSum(a22), horizontalSum(a23))) }
        if m > 3 { store(3, SIMD4(horizontalSum(a30), horizontalSum(a31), horizontalSum(a32), horizontalSum(a33))) }
    }
}
