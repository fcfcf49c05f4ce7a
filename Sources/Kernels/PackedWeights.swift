// Weights packed once at load for the matmul micro-kernel.
//
// Without this, every matmul of more than `maxMatvecRows` rows repacks (transposes, and widens
// bf16/f16 to f32) each panel of W before using it. For a prefill of hundreds of rows that cost
// is shared by all of them; for a batched decode step of 5-16 rows it is about as much work as
// the multiply itself, and batching stops paying. Packing once trades memory for that time.
//
// Layout per matrix (N = rows, K = cols): panels of `panelWidth` (32) output columns,
// consecutive, each k-major over the whole of K, so the block the kernel reads for depth k0 of
// panel p starts at element (p * K + k0) * panelWidth. Two element layouts:
// - f32 (f32 and f16 weights): packed[(p * K + k) * 32 + j] = W[p * 32 + j, k]     (zero past N)
// - bf16 pairs (bf16 weights): one 32-bit word per column pair (j, j + 16), j < 16:
//     word[(p * K + k) * 16 + j] = bits(W[p * 32 + j, k]) | bits(W[p * 32 + 16 + j, k]) << 16
//   so one 64-byte load gives both halves of a panel row: `word << 16` is columns 0-15 as f32,
//   `word & 0xFFFF0000` columns 16-31. Exact (bf16 widens to f32 without rounding), half the
//   bytes of the f32 copy. A batched decode step reads every packed matrix once per lane from
//   L2/L3, and at 8 rows per lane the f32 kernel wants 128 bytes of panel per 16 FMAs: the bytes,
//   not the FMAs, bound it (measured in `kernel-bench`'s decode table and `dlcm bench`).

/// Owns packed copies of weight matrices; they live as long as this object.
public final class PackedWeights: @unchecked Sendable {
    private var buffers: [UnsafeMutableRawPointer] = []
    /// Bytes held (padded to whole panels).
    public private(set) var bytes = 0

    public init() {}

    deinit {
        for b in buffers { b.deallocate() }
    }

    /// `w` with `packed` set to a copy packed here: bf16 pairs for bf16 weights, f32 otherwise.
    /// Matrices of fewer than `panelWidth` rows are packed too (zero-padded); empty ones are
    /// returned unchanged, and so are quantized ones: their copy would be f32, 4x the bytes of
    /// q8_0 and 8x q4_0, and a quantized model is chosen for its memory. Their matmuls take the
    /// int8 kernels (QuantizedDot.swift) or dequantize the panels they need per call
    /// (MatmulPacking.swift).
    public func pack(_ w: WeightMatrix) -> WeightMatrix {
        guard w.rows > 0, w.cols > 0, !w.type.isQuantized else { return w }
        let panels = (w.rows + panelWidth - 1) / panelWidth
        let count = panels * w.cols * panelWidth
        let elementBytes = w.type == .bf16 ? 2 : 4
        // 64-byte aligned so the kernel's 64-byte loads never split a cache line.
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * elementBytes, alignment: 64)
        buffers.append(raw)
        bytes += count * elementBytes
        var result = w
        if w.type == .bf16 {
            let out = raw.bindMemory(to: UInt32.self, capacity: count / 2)
            for p in 0..<panels {
                packBF16PairPanel(out + p * w.cols * (panelWidth / 2), w, n0: p * panelWidth)
            }
            result.packed = .bf16Pairs(UnsafeRawPointer(raw))
        } else {
            let out = raw.bindMemory(to: Float.self, capacity: count)
            for p in 0..<panels {
                let n0 = p * panelWidth
                packPanel(out + p * w.cols * panelWidth, w, n0: n0, cols: min(panelWidth, w.rows - n0), k0: 0, kc: w.cols)
            }
            result.packed = .f32(UnsafePointer(out))
        }
        return result
    }
}

/// Packs rows n0 ..< n0 + 32 of a bf16 W (zero past its end), all of K, as bf16 pairs.
/// - Parameter out: (K, 16) words.
private func packBF16PairPanel(_ out: UnsafeMutablePointer<UInt32>, _ w: WeightMatrix, n0: Int) {
    let half = panelWidth / 2
    for j in 0..<half {
        let low = n0 + j < w.rows ? w.row(n0 + j) : nil
        let high = n0 + half + j < w.rows ? w.row(n0 + half + j) : nil
        for k in 0..<w.cols {
            let lo = low.map { UInt32($0.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self)) } ?? 0
            let hi = high.map { UInt32($0.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self)) } ?? 0
            out[k * half + j] = lo | hi << 16
        }
    }
}
