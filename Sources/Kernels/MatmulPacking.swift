// Packing a panel of W for the prefill matmul.
//
// The micro-kernel broadcasts one X element and multiplies it by 32 consecutive *output*
// columns of W, so W (row-major over K) is repacked per call into k-major panels:
//   packed[k * panelWidth + j] = W[n0 + j, k0 + k]      (kc, panelWidth)
// decoding bf16 / f16 to f32 on the way (dequantizing q8_0 / q4_0: 16 weights are half a block
// of a row, one scale), once per panel and reused by every row block of X.
// The transposition is done 16x16 at a time in registers (4 rounds of unzip).

/// Columns of Y (rows of W) per packed panel: two SIMD16 vectors.
@usableFromInline let panelWidth = 32

/// Transposes a 16x16 block held in 16 row vectors.
@inline(__always) @usableFromInline
func transpose16x16(_ r: inout (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>,
                                SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>,
                                SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>,
                                SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)) {
    // One round: (out[i], out[i + 8]) = unzip(in[2i], in[2i + 1]); four rounds transpose.
    for _ in 0..<4 {
        let (a0, b0) = unzip(r.0, r.1)
        let (a1, b1) = unzip(r.2, r.3)
        let (a2, b2) = unzip(r.4, r.5)
        let (a3, b3) = unzip(r.6, r.7)
        let (a4, b4) = unzip(r.8, r.9)
        let (a5, b5) = unzip(r.10, r.11)
        let (a6, b6) = unzip(r.12, r.13)
        let (a7, b7) = unzip(r.14, r.15)
        r = (a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7)
    }
}

/// 16 elements of a W row at element `k` (a multiple of 16 for quantized types), decoded to f32.
/// `scales`: the row's scales at the same start as `row` (quantized types; unused otherwise).
@inline(__always) @usableFromInline
func loadWeights16(_ row: UnsafeRawPointer, _ k: Int, _ type: WeightType, scales: UnsafeRawPointer) -> SIMD16<Float> {
    switch type {
    case .f32: return loadF32x16(row + 4 * k)
    case .bf16: return loadBF16x16(row + 2 * k)
    case .f16: return loadF16x16(row + 2 * k)
    case .q8_0, .q4_0: return loadQuantized16(row, scales, k, type)
    }
}

/// Packs W[n0 ..< n0 + cols, k0 ..< k0 + kc] into `packed`, zero-filling columns >= cols.
/// - Parameters:
///   - packed: (kc, panelWidth) f32 output.
///   - cols: valid rows of W in this panel, 1...panelWidth.
@inline(__always) @usableFromInline
func packPanel(_ packed: UnsafeMutablePointer<Float>, _ w: WeightMatrix,
               n0: Int, cols: Int, k0: Int, kc: Int) {
    let type = w.type
    for group in 0..<(panelWidth / 16) {
        let j0 = group * 16
        let out = UnsafeMutableRawPointer(packed + j0)
        let valid = min(16, max(0, cols - j0))
        if valid == 0 {
            for k in 0..<kc {
                (out + 4 * k * panelWidth).storeBytes(of: SIMD16<Float>(), as: SIMD16<Float>.self)
            }
            continue
        }
        // Rows beyond `valid` re-read the last valid row; their columns are zeroed below.
        @inline(__always) func rowPointer(_ j: Int) -> UnsafeRawPointer {
            w.row(n0 + j0 + min(j, valid - 1)) + type.rowBytes(k0)
        }
        // Quantized types: each row's scales from block k0 / 32 (k0 is a multiple of kcBlock, so
        // of 32). Float types read none; theirs are a placeholder, never read.
        @inline(__always) func scalePointer(_ j: Int) -> UnsafeRawPointer {
            type.isQuantized ? w.scaleRow(n0 + j0 + min(j, valid - 1)) + 2 * (k0 / quantBlock) : w.base
        }
        let p0 = rowPointer(0), p1 = rowPointer(1), p2 = rowPointer(2), p3 = rowPointer(3)
        let p4 = rowPointer(4), p5 = rowPointer(5), p6 = rowPointer(6), p7 = rowPointer(7)
        let p8 = rowPointer(8), p9 = rowPointer(9), p10 = rowPointer(10), p11 = rowPointer(11)
        let p12 = rowPointer(12), p13 = rowPointer(13), p14 = rowPointer(14), p15 = rowPointer(15)
        let s0 = scalePointer(0), s1 = scalePointer(1), s2 = scalePointer(2), s3 = scalePointer(3)
        let s4 = scalePointer(4), s5 = scalePointer(5), s6 = scalePointer(6), s7 = scalePointer(7)
        let s8 = scalePointer(8), s9 = scalePointer(9), s10 = scalePointer(10), s11 = scalePointer(11)
        let s12 = scalePointer(12), s13 = scalePointer(13), s14 = scalePointer(14), s15 = scalePointer(15)
        var mask = SIMD16<Float>(repeating: 1)
        for j in valid..<16 { mask[j] = 0 }
        var k = 0
        while k + 16 <= kc {
            var r = (loadWeights16(p0, k, type, scales: s0), loadWeights16(p1, k, type, scales: s1),
                     loadWeights16(p2, k, type, scales: s2), loadWeights16(p3, k, type, scales: s3),
                     loadWeights16(p4, k, type, scales: s4), loadWeights16(p5, k, type, scales: s5),
                     loadWeights16(p6, k, type, scales: s6), loadWeights16(p7, k, type, scales: s7),
                     loadWeights16(p8, k, type, scales: s8), loadWeights16(p9, k, type, scales: s9),
                     loadWeights16(p10, k, type, scales: s10), loadWeights16(p11, k, type, scales: s11),
                     loadWeights16(p12, k, type, scales: s12), loadWeights16(p13, k, type, scales: s13),
                     loadWeights16(p14, k, type, scales: s14), loadWeights16(p15, k, type, scales: s15))
            transpose16x16(&r)
            let base = out + 4 * k * panelWidth
            let stride = 4 * panelWidth
            if valid < 16 {
                r.0 *= mask; r.1 *= mask; r.2 *= mask; r.3 *= mask
                r.4 *= mask; r.5 *= mask; r.6 *= mask; r.7 *= mask
                r.8 *= mask; r.9 *= mask; r.10 *= mask; r.11 *= mask
                r.12 *= mask; r.13 *= mask; r.14 *= mask; r.15 *= mask
            }
            base.storeBytes(of: r.0, as: SIMD16<Float>.self)
            (base + 1 * stride).storeBytes(of: r.1, as: SIMD16<Float>.self)
            (base + 2 * stride).storeBytes(of: r.2, as: SIMD16<Float>.self)
            (base + 3 * stride).storeBytes(of: r.3, as: SIMD16<Float>.self)
            (base + 4 * stride).storeBytes(of: r.4, as: SIMD16<Float>.self)
            (base + 5 * stride).storeBytes(of: r.5, as: SIMD16<Float>.self)
            (base + 6 * stride).storeBytes(of: r.6, as: SIMD16<Float>.self)
            (base + 7 * stride).storeBytes(of: r.7, as: SIMD16<Float>.self)
            (base + 8 * stride).storeBytes(of: r.8, as: SIMD16<Float>.self)
            (base + 9 * stride).storeBytes(of: r.9, as: SIMD16<Float>.self)
            (base + 10 * stride).storeBytes(of: r.10, as: SIMD16<Float>.self)
            (base + 11 * stride).storeBytes(of: r.11, as: SIMD16<Float>.self)
            (base + 12 * stride).storeBytes(of: r.12, as: SIMD16<Float>.self)
            (base + 13 * stride).storeBytes(of: r.13, as: SIMD16<Float>.self)
            (base + 14 * stride).storeBytes(of: r.14, as: SIMD16<Float>.self)
            (base + 15 * stride).storeBytes(of: r.15, as: SIMD16<Float>.self)
            k += 16
        }
        // K tail (kc not a multiple of 16, so never for quantized types): scalar.
        while k < kc {
            let dst = packed + k * panelWidth + j0
            for j in 0..<16 {
                dst[j] = j < valid ? w.element(n0 + j0 + j, k0 + k) : 0
            }
            k += 1
        }
    }
}
