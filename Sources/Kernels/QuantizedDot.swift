// How `matvec` multiplies quantized (q8_0 / q4_0) weights, and the call into the int8 kernels
// (CKernelSupport/QuantizedDot.c).
//
// `.exact` widens every code to f32 and scales it (QuantizedMatvec.swift): a quantized matrix
// then computes exactly what its dequantized f32 copy computes, but the widening costs about ten
// instructions per 32 weights and a row, so the kernel is bound by instructions, not memory.
// `.int8` quantizes X to int8 per block of 32 once per call and multiplies codes in integers
// (vpdpbusd), scaling only per-block sums: X's rounding (a relative 1/254 of each block's
// largest element at worst) is added to the weights' own, as in llama.cpp's q8_0 dot products.
// Every product of up to `int8MaxRows` rows of X with such a matrix takes it (`matmul` and
// `matvec` alike), and a row's result does not depend on the other rows in the call: with
// `.int8` a sequence decoding alone or in a batch of up to that many rows gets the same logits.
// Larger products (prefill chunks) take the exact products, which are faster there.

import CKernelSupport

/// How `matvec` multiplies a quantized matrix.
public enum QuantizedProducts: String, Sendable, CaseIterable {
    /// Dequantized weights times f32 X: bit for bit the dequantized f32 matrix's products.
    case exact
    /// X quantized to int8 per block of 32, integer dot products (AVX512-VNNI).
    case int8

    /// Whether this build has the int8 kernels (compiled for a CPU with AVX512 BW, VL and VNNI).
    public static let int8Available = dlcm_qdot_available() != 0

    /// The default: `.int8` where available.
    public static let preferred: QuantizedProducts = int8Available ? .int8 : .exact
}

/// Most rows of X that take the int8 kernels; larger matmuls take the exact products.
///
/// The int8 kernel runs at one rate whatever the rows (about 100 GFLOP/s on one thread of a
/// 2-vCPU Intel Xeon with AVX512-VNNI: four vector operations per 64 multiply-adds of one X row
/// and one W row, as per-block scales force a float conversion per pair of blocks), while the
/// exact products, which dequantize W's panels once per call, gain with rows as the cost is shared:
/// measured side by side (`kernel-bench qmatmul`, K and N 512-4096, q8_0 and q4_0), int8 over exact
/// 1.7-2.0x at 8 rows, 1.1-1.5x at 16, 0.9-1.2x at 24-32, 0.7-0.95x at 48-64 and 0.6-0.7x at 512.
/// Decode steps (at most the engine's batch of 16 rows) take int8; prefill chunks take exact.
public let int8MaxRows = 32

/// Whether a product of m rows with `w` goes through the int8 kernels: quantized weights that
/// ask for them, a build that has them, a width they take, and at most `int8MaxRows` rows.
@inline(__always)
func takesInt8(_ w: WeightMatrix, m: Int) -> Bool {
    w.type.isQuantized && w.quantizedProducts == .int8 && m <= int8MaxRows && QuantizedProducts.int8Available
        && dlcm_qdot_supports(Int32(w.cols)) != 0
}

/// Bytes of scratch `prepareInt8` needs for m rows of X against `w`.
@inline(__always)
func int8ScratchBytes(_ w: WeightMatrix, m: Int) -> Int { m * dlcm_qdot_row_bytes(Int32(w.cols)) }

/// Quantizes m rows of X (m, w.cols) into `scratch` (int8ScratchBytes), as `int8GroupRange` reads them.
@inline(__always)
func prepareInt8(_ scratch: UnsafeMutableRawPointer, _ x: UnsafePointer<Float>, _ w: WeightMatrix, m: Int) {
    dlcm_qdot_prepare(x, Int32(m), Int32(w.cols), w.type == .q8_0 ? DLCM_QDOT_Q8_0 : DLCM_QDOT_Q4_0, scratch)
}

/// Rows 4g ..< 4g + 4 of Y for g in `groups`, all m rows of X, from X prepared by `prepareInt8`.
@inline(__always)
func int8GroupRange(_ y: UnsafeMutablePointer<Float>, _ prepared: UnsafeRawPointer, _ w: WeightMatrix,
                    m: Int, groups: Range<Int>, accumulate: Bool) {
    dlcm_qdot_matvec(y, Int32(w.rows), prepared, Int32(m), Int32(w.cols), w.type == .q8_0 ? DLCM_QDOT_Q8_0 : DLCM_QDOT_Q4_0,
                     w.base, w.rowStride, w.scales!, w.scaleRowStride,
                     Int32(groups.lowerBound), Int32(groups.upperBound), accumulate ? 1 : 0)
}

/// Y (+)= X · Wᵀ through the int8 kernels when the product takes them (`takesInt8`); false
/// (nothing done) otherwise. Split over groups of 4 rows of W when `pool` is given.
@inline(__always)
func int8Matmul(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: WeightMatrix,
                m: Int, accumulate: Bool, pool: ThreadPool?, grain: Int) -> Bool {
    guard takesInt8(w, m: m) else { return false }
    guard m > 0, w.rows > 0 else { return true }
    // m prepared rows of X: (m, dlcm_qdot_row_bytes(k)) bytes, about 2.1 bytes per element of X.
    withUnsafeTemporaryAllocation(byteCount: int8ScratchBytes(w, m: m), alignment: 64) { scratch in
        prepareInt8(scratch.baseAddress!, x, w, m: m)
        let prepared = UnsafeRawPointer(scratch.baseAddress!)
        let run: (Range<Int>) -> Void = { range in
            int8GroupRange(y, prepared, w, m: m, groups: range, accumulate: accumulate)
        }
        let groups = (w.rows + 3) / 4
        if let pool, pool.threadCount > 1, grain > 0 {
            pool.parallelFor(groups, grain: grain, run)
        } else {
            run(0..<groups)
        }
    }
    return true
}
