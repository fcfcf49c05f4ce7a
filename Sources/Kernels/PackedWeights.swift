// Weights packed once at load for the matmul micro-kernel.
//
// Without this, every matmul of more than `maxMatvecRows` rows repacks (transposes, and widens
// bf16/f16 to f32) each panel of W before using it. For a prefill of hundreds of rows that cost
// is shared by all of them; for a batched decode step of 5-16 rows it is about as much work as
// the multiply itself, and batching stops paying. Packing once trades memory (an f32 copy of
// every packed matrix) for that time.
//
// Layout per matrix (N = rows, K = cols): panels of `panelWidth` output columns, consecutive,
// each k-major over the whole of K:
//   packed[(p * K + k) * panelWidth + j] = W[p * panelWidth + j, k]     (zero past N)
// so the (kc, panelWidth) block the kernel reads for depth k0 starts at (p * K + k0) * panelWidth.

/// Owns packed copies of weight matrices; they live as long as this object.
public final class PackedWeights: @unchecked Sendable {
    private var buffers: [UnsafeMutablePointer<Float>] = []
    /// Bytes held (f32 copies, padded to whole panels).
    public private(set) var bytes = 0

    public init() {}

    deinit {
        for b in buffers { b.deallocate() }
    }

    /// `w` with `packed` set to a copy packed here. Matrices of fewer than `panelWidth` rows are
    /// packed too (zero-padded); empty ones are returned unchanged.
    public func pack(_ w: WeightMatrix) -> WeightMatrix {
        guard w.rows > 0, w.cols > 0 else { return w }
        let panels = (w.rows + panelWidth - 1) / panelWidth
        let count = panels * w.cols * panelWidth
        // 64-byte aligned so the kernel's SIMD16 loads never split a cache line.
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64)
        let out = raw.bindMemory(to: Float.self, capacity: count)
        for p in 0..<panels {
            let n0 = p * panelWidth
            packPanel(out + p * w.cols * panelWidth, w, n0: n0, cols: min(panelWidth, w.rows - n0), k0: 0, kc: w.cols)
        }
        buffers.append(out)
        bytes += count * 4
        var result = w
        result.packed = UnsafePointer(out)
        return result
    }
}
