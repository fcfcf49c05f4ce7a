// How `matvec` multiplies quantized (q8_0 / q4_0) weights, and the call into the int8 kernels
// (CKernelSupport/QuantizedDot.c).
//
// `.exact` widens every code to f32 and scales it (QuantizedMatvec.swift): a quantized matrix
// then computes exactly what its dequantized f32 copy computes, but the widening costs about ten
// instructions per 32 weights and a row, so the kernel is bound by instructions, not memory.
// `.int8` quantizes X to int8 per block of 32 once per call and multiplies codes in integers
// (vpdpbusd), scaling only per-block sums: X's rounding (a relative 1/254 of each block's
// largest element at worst) is added to the weights' own, as in llama.cpp's q8_0 dot products.
// Only rows of X that go to `matvec` (up to 4) take it; larger batches pack per call and stay
// exact, so with `.int8` a sequence's logits depend a little on how many rows share its step.

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

/// Y (+)= X · Wᵀ through the int8 kernels when `w` asks for them and they can take it;
/// false (nothing done) otherwise.
@inline(__always)
func int8Matvec(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: WeightMatrix,
                m: Int, accumulate: Bool, pool: ThreadPool?, grain: Int) -> Bool {
    guard w.type.isQuantized, w.quantizedProducts == .int8, QuantizedProducts.int8Available,
          dlcm_qdot_supports(Int32(w.cols)) != 0 else { return false }
    let type = w.type == .q8_0 ? DLCM_QDOT_Q8_0 : DLCM_QDOT_Q4_0
    let k = Int32(w.cols), n = Int32(w.rows)
    // m prepared rows of X: (m, dlcm_qdot_row_bytes(k)) bytes.
    let bytes = m * dlcm_qdot_row_bytes(k)
    withUnsafeTemporaryAllocation(byteCount: bytes, alignment: 64) { scratch in
        let xs = UnsafeRawPointer(scratch.baseAddress!)
        dlcm_qdot_prepare(x, Int32(m), k, type, scratch.baseAddress!)
        let run: (Range<Int>) -> Void = { range in
            dlcm_qdot_matvec(y, n, xs, Int32(m), k, type, w.base, w.rowStride, w.scales!, w.scaleRowStride,
                             Int32(range.lowerBound), Int32(range.upperBound), accumulate ? 1 : 0)
        }
        let groups = (w.rows + 3) / 4
        if let pool, grain > 0 {
            pool.parallelFor(groups, grain: grain, run)
        } else {
            run(0..<groups)
        }
    }
    return true
}
