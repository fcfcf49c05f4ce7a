// Y (+)= X · Wᵀ for activations X (M, K) in f32 and weights W (N, K) in PyTorch Linear layout.
//
// M <= 2 (decode) is memory-bound and goes to `matvec`, which reads W in its own type. Quantized
// W with int8 products (QuantizedDot.swift) takes the int8 kernels up to `int8MaxRows` rows. Larger M
// uses a 12x32 register-blocked micro-kernel (24 SIMD16 accumulators) that broadcasts X elements
// against W packed per panel of 32 output columns: at load (PackedWeights.swift: bf16 pairs for
// bf16 weights, f32 otherwise) or per call (MatmulPacking.swift, f32; always for q8_0 / q4_0 W,
// which is never packed at load). M = 3 or 4 takes the packed kernel when W was
// packed at load (matvec when it would have to pack per call, or when the matrix says so: see
// `WeightMatrix.matvecMaxRows`). Work is split over panels of N across the thread pool.

/// Most rows of X that go to `matvec` when W is packed. Measured per call on a 2-vCPU AMD EPYC
/// (Zen 4), one thread, bf16 W: for 3-4 rows the packed kernel is 1.2-2.3x faster with W in cache
/// (the LM head 8192x128 at 4 rows: 78 vs 177 us) and within 10% from DRAM; for 1-2 rows matvec
/// is as fast or faster, and up to 2x from DRAM (it reads half the bytes).
public let packedMinRows = 3

/// Rows of X per micro-kernel call.
@usableFromInline let microRows = 12
/// Depth of one packed block: (kcBlock, panelWidth) f32 = 64 KiB, streamed from L2.
/// Measured side by side (M=128..512, K,N=192..1536): 512 ≥ 256 > 128 > 64 by a few percent,
/// most for large K (fewer passes re-reading Y).
@usableFromInline let kcBlock = 512

/// Y (+)= X · Wᵀ.
///
/// - Parameters:
///   - y: (m, w.rows) f32 output, row-major.
///   - x: (m, w.cols) f32 input, row-major.
///   - w: (N = w.rows, K = w.cols) weights, any `WeightType`.
///   - m: rows of X and Y.
///   - accumulate: add to Y instead of overwriting it.
///   - pool: threads to split over (nil: the calling thread only).
public func matmul(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: WeightMatrix,
                   m: Int, accumulate: Bool = false, pool: ThreadPool? = nil) {
    if m > maxMatvecRows, takesInt8(w, m: m) {
        // Each group of 4 output columns is m * K multiply-adds: split when a thread gets at
        // least the work of streaming `matvecMinBytesPerThread` of W.
        let groupWork = max(1, 4 * w.cols * m)
        let split = pool.map { $0.threadCount > 1 } == true && w.rows * w.cols * m >= 2 * matvecMinBytesPerThread
        _ = int8Matmul(y, x, w, m: m, accumulate: accumulate, pool: split ? pool : nil,
                       grain: split ? max(1, matvecMinBytesPerThread / groupWork) : 0)
        return
    }
    if takesMatvec(w, m: m) {
        matvec(y, x, w, m: m, accumulate: accumulate, pool: pool)
        return
    }
    let n = w.rows
    if w.cols == 0 {
        if !accumulate { y.update(repeating: 0, count: m * n) }
        return
    }
    let panels = (n + panelWidth - 1) / panelWidth
    let run: (Range<Int>) -> Void = { range in gemmPanelRange(y, x, w, m: m, panels: range, accumulate: accumulate) }
    if let pool, pool.threadCount > 1 {
        pool.parallelFor(panels, run)
    } else {
        run(0..<panels)
    }
}

/// Whether `matmul` sends m rows against `w` to `matvec`.
@inline(__always)
func takesMatvec(_ w: WeightMatrix, m: Int) -> Bool {
    m <= w.matvecMaxRows || (m <= maxMatvecRows && w.packed == nil)
}

/// The units `matmul` can hand out independently: 32-column panels of Y, or on the matvec path
/// groups of 4 columns; and how many columns of Y each covers.
func matmulUnits(_ w: WeightMatrix, m: Int) -> (count: Int, columns: Int) {
    takesMatvec(w, m: m) || takesInt8(w, m: m) ? ((w.rows + 3) / 4, 4) : ((w.rows + panelWidth - 1) / panelWidth, panelWidth)
}

/// `matmul`'s work for some of its units (see `matmulUnits`), on the calling thread. `prepared`:
/// X prepared by `prepareInt8`, required when `takesInt8(w, m: m)`.
func matmulUnitRange(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: WeightMatrix,
                     m: Int, units: Range<Int>, accumulate: Bool, prepared: UnsafeRawPointer? = nil) {
    if takesInt8(w, m: m) {
        int8GroupRange(y, prepared!, w, m: m, groups: units, accumulate: accumulate)
    } else if takesMatvec(w, m: m) {
        matvecGroupRange(y, x, w, m: m, groups: units, accumulate: accumulate)
    } else if w.cols == 0 {
        guard !accumulate else { return }
        let first = units.lowerBound * panelWidth, end = min(w.rows, units.upperBound * panelWidth)
        for r in 0..<m { (y + r * w.rows + first).update(repeating: 0, count: end - first) }
    } else {
        gemmPanelRange(y, x, w, m: m, panels: units, accumulate: accumulate)
    }
}

/// Panels `range` of Y, the packing loop specialised for W's type.
@inline(__always)
func gemmPanelRange(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: WeightMatrix,
                    m: Int, panels range: Range<Int>, accumulate: Bool) {
    switch w.type {
    case .f32: gemmPanels(y, x, w, .f32, m: m, panels: range, accumulate: accumulate)
    case .bf16: gemmPanels(y, x, w, .bf16, m: m, panels: range, accumulate: accumulate)
    case .f16: gemmPanels(y, x, w, .f16, m: m, panels: range, accumulate: accumulate)
    case .q8_0: gemmPanels(y, x, w, .q8_0, m: m, panels: range, accumulate: accumulate)
    case .q4_0: gemmPanels(y, x, w, .q4_0, m: m, panels: range, accumulate: accumulate)
    }
}

/// Computes the output columns of `panels` (each `panelWidth` wide) for all m rows.
/// `type` is passed separately (== w.type) so each call site specialises the packing loop.
@inline(__always)
func gemmPanels(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: WeightMatrix,
                _ type: WeightType, m: Int, panels: Range<Int>, accumulate: Bool) {
    let n = w.rows, k = w.cols
    switch w.packed {
    case .f32(let pre):
        packedPanels(y, x, F32Panels.self, UnsafeRawPointer(pre), n: n, k: k, m: m, panels: panels, accumulate: accumulate)
        return
    case .bf16Pairs(let pre):
        packedPanels(y, x, BF16PairPanels.self, pre, n: n, k: k, m: m, panels: panels, accumulate: accumulate)
        return
    case nil:
        break
    }
    let typed = WeightMatrix(base: w.base, type: type, rows: n, cols: k, scales: w.scales)
    // 64 KiB scratch: on the stack when there is room (pool threads have 8 MiB), else malloc'ed.
    withUnsafeTemporaryAllocation(of: Float.self, capacity: kcBlock * panelWidth) { scratch in
        let packed = scratch.baseAddress!
        forEachBlock(n: n, k: k, panels: panels) { _, n0, cols, k0, kc in
            packPanel(packed, typed, n0: n0, cols: cols, k0: k0, kc: kc)
            rowBlocks(y + n0, x + k0, ldx: k, ldy: n, m: m, kc: kc, F32Panels.self, packed: UnsafeRawPointer(packed),
                      cols: cols, add: accumulate || k0 > 0)
        }
    }
}

/// The panels of a matrix packed at load, each read in (kc, panelWidth) blocks in place.
@inline(__always)
func packedPanels<F: PanelFormat>(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ format: F.Type,
                                  _ pre: UnsafeRawPointer, n: Int, k: Int, m: Int, panels: Range<Int>, accumulate: Bool) {
    forEachBlock(n: n, k: k, panels: panels) { panel, n0, cols, k0, kc in
        rowBlocks(y + n0, x + k0, ldx: k, ldy: n, m: m, kc: kc, format, packed: pre + (panel * k + k0) * F.bytesPerK,
                  cols: cols, add: accumulate || k0 > 0)
    }
}

/// Each (kc, panelWidth) block of `panels` in order: its panel, first output column, valid
/// columns (panelWidth but at N's edge), first depth and depth (kcBlock but at K's end).
@inline(__always)
func forEachBlock(n: Int, k: Int, panels: Range<Int>, _ body: (_ panel: Int, _ n0: Int, _ cols: Int, _ k0: Int, _ kc: Int) -> Void) {
    for panel in panels {
        let n0 = panel * panelWidth
        let cols = min(panelWidth, n - n0)
        var k0 = 0
        while k0 < k {
            body(panel, n0, cols, k0, min(kcBlock, k - k0))
            k0 += kcBlock
        }
    }
}

/// How a packed panel holds one depth step: 32 output columns of W, as two SIMD16 of f32.
@usableFromInline protocol PanelFormat {
    /// Bytes per depth step of a panel.
    static var bytesPerK: Int { get }
    /// Columns 0-15 and 16-31 of the depth step at `p`.
    static func load(_ p: UnsafeRawPointer) -> (SIMD16<Float>, SIMD16<Float>)
}

/// 32 f32 (128 bytes) per depth step.
@usableFromInline enum F32Panels: PanelFormat {
    @inline(__always) @usableFromInline static var bytesPerK: Int { 4 * panelWidth }
    @inline(__always) @usableFromInline
    static func load(_ p: UnsafeRawPointer) -> (SIMD16<Float>, SIMD16<Float>) {
        (p.load(as: SIMD16<Float>.self), (p + 64).load(as: SIMD16<Float>.self))
    }
}

/// 16 words of bf16 pairs (64 bytes) per depth step; widening costs a shift and an and.
@usableFromInline enum BF16PairPanels: PanelFormat {
    @inline(__always) @usableFromInline static var bytesPerK: Int { 2 * panelWidth }
    @inline(__always) @usableFromInline
    static func load(_ p: UnsafeRawPointer) -> (SIMD16<Float>, SIMD16<Float>) {
        let words = p.load(as: SIMD16<UInt32>.self)
        return (unsafeBitCast(words &<< 16, to: SIMD16<Float>.self),
                unsafeBitCast(words & SIMD16<UInt32>(repeating: 0xFFFF_0000), to: SIMD16<Float>.self))
    }
}

/// All m rows of X against one packed (kc, panelWidth) block, in row blocks of 12, with an
/// 8- or 4-row kernel for what is left, so a batch of 8 or 16 rows computes no padding rows.
@inline(__always)
func rowBlocks<F: PanelFormat>(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, ldx: Int, ldy: Int, m: Int, kc: Int,
                               _ format: F.Type, packed: UnsafeRawPointer, cols: Int, add: Bool) {
    var m0 = 0
    while m0 < m {
        let left = m - m0
        // 13-16 rows go as 8 + the rest: two 8-row calls beat 12 + a 4-row tail (whose loads
        // feed half as many FMAs), 10-18% on a 16-sequence decode step.
        if left > 16 || (left > 8 && left <= 12) {
            microKernel12x32(format, kc: kc, x: x + m0 * ldx, ldx: ldx, rows: min(microRows, left),
                             packed: packed, y: y + m0 * ldy, ldy: ldy, cols: cols, add: add)
            m0 += microRows
        } else if left > 4 {
            microKernel8x32(format, kc: kc, x: x + m0 * ldx, ldx: ldx, rows: min(8, left),
                            packed: packed, y: y + m0 * ldy, ldy: ldy, cols: cols, add: add)
            m0 += 8
        } else {
            microKernel4x32(format, kc: kc, x: x + m0 * ldx, ldx: ldx, rows: left,
                            packed: packed, y: y + m0 * ldy, ldy: ldy, cols: cols, add: add)
            m0 += 4
        }
    }
}

/// Y[0 ..< rows, 0 ..< cols] (+)= X[0 ..< rows, 0 ..< kc] · packed.
///
/// - Parameters:
///   - x: (rows, kc) with row stride ldx. Rows beyond `rows` are never read.
///   - rows: valid rows, 1...12.
///   - packed: (kc, panelWidth) packed W panel, in `F`'s layout.
///   - y: (rows, cols) with row stride ldy.
///   - cols: valid columns, 1...32.
///   - add: accumulate into Y instead of overwriting.
@inline(never)
func microKernel12x32<F: PanelFormat>(_ format: F.Type, kc: Int, x: UnsafePointer<Float>, ldx: Int, rows: Int,
                      packed: UnsafeRawPointer, y: UnsafeMutablePointer<Float>, ldy: Int,
                      cols: Int, add: Bool) {
    typealias V = SIMD16<Float>
    // Rows past the end re-read the last valid row (results discarded): no branches inside.
    @inline(__always) func xRow(_ r: Int) -> UnsafePointer<Float> { x + min(r, rows - 1) * ldx }
    let x0 = xRow(0), x1 = xRow(1), x2 = xRow(2), x3 = xRow(3), x4 = xRow(4), x5 = xRow(5)
    let x6 = xRow(6), x7 = xRow(7), x8 = xRow(8), x9 = xRow(9), x10 = xRow(10), x11 = xRow(11)
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    var c60 = V(), c61 = V(), c70 = V(), c71 = V(), c80 = V(), c81 = V()
    var c90 = V(), c91 = V(), ca0 = V(), ca1 = V(), cb0 = V(), cb1 = V()
    var p = packed
    for kk in 0..<kc {
        let (w0, w1) = F.load(p)
        p += F.bytesPerK
        var a = V(repeating: x0[kk])
        c00 = c00.addingProduct(a, w0); c01 = c01.addingProduct(a, w1)
        a = V(repeating: x1[kk])
        c10 = c10.addingProduct(a, w0); c11 = c11.addingProduct(a, w1)
        a = V(repeating: x2[kk])
        c20 = c20.addingProduct(a, w0); c21 = c21.addingProduct(a, w1)
        a = V(repeating: x3[kk])
        c30 = c30.addingProduct(a, w0); c31 = c31.addingProduct(a, w1)
        a = V(repeating: x4[kk])
        c40 = c40.addingProduct(a, w0); c41 = c41.addingProduct(a, w1)
        a = V(repeating: x5[kk])
        c50 = c50.addingProduct(a, w0); c51 = c51.addingProduct(a, w1)
        a = V(repeating: x6[kk])
        c60 = c60.addingProduct(a, w0); c61 = c61.addingProduct(a, w1)
        a = V(repeating: x7[kk])
        c70 = c70.addingProduct(a, w0); c71 = c71.addingProduct(a, w1)
        a = V(repeating: x8[kk])
        c80 = c80.addingProduct(a, w0); c81 = c81.addingProduct(a, w1)
        a = V(repeating: x9[kk])
        c90 = c90.addingProduct(a, w0); c91 = c91.addingProduct(a, w1)
        a = V(repeating: x10[kk])
        ca0 = ca0.addingProduct(a, w0); ca1 = ca1.addingProduct(a, w1)
        a = V(repeating: x11[kk])
        cb0 = cb0.addingProduct(a, w0); cb1 = cb1.addingProduct(a, w1)
    }
    @inline(__always) func store(_ r: Int, _ lo: V, _ hi: V) {
        if r < rows { storeRow(y + r * ldy, lo, hi, cols: cols, add: add) }
    }
    store(0, c00, c01); store(1, c10, c11); store(2, c20, c21); store(3, c30, c31)
    store(4, c40, c41); store(5, c50, c51); store(6, c60, c61); store(7, c70, c71)
    store(8, c80, c81); store(9, c90, c91); store(10, ca0, ca1); store(11, cb0, cb1)
}

/// One output row of a micro-kernel: 32 columns (two vectors), or `cols` of them at a panel's edge.
@inline(__always)
func storeRow(_ out: UnsafeMutablePointer<Float>, _ lo: SIMD16<Float>, _ hi: SIMD16<Float>, cols: Int, add: Bool) {
    typealias V = SIMD16<Float>
    if cols == panelWidth {
        let o = UnsafeMutableRawPointer(out)
        if add {
            o.storeBytes(of: o.loadUnaligned(as: V.self) + lo, as: V.self)
            (o + 64).storeBytes(of: (o + 64).loadUnaligned(as: V.self) + hi, as: V.self)
        } else {
            o.storeBytes(of: lo, as: V.self)
            (o + 64).storeBytes(of: hi, as: V.self)
        }
    } else {
        for j in 0..<cols {
            let v = j < 16 ? lo[j] : hi[j - 16]
            out[j] = add ? out[j] + v : v
        }
    }
}

/// The 12x32 kernel's shape for 5-8 rows (16 accumulators). See `microKernel12x32`.
@inline(never)
func microKernel8x32<F: PanelFormat>(_ format: F.Type, kc: Int, x: UnsafePointer<Float>, ldx: Int, rows: Int,
                      packed: UnsafeRawPointer, y: UnsafeMutablePointer<Float>, ldy: Int,
                     cols: Int, add: Bool) {
    typealias V = SIMD16<Float>
    @inline(__always) func xRow(_ r: Int) -> UnsafePointer<Float> { x + min(r, rows - 1) * ldx }
    let x0 = xRow(0), x1 = xRow(1), x2 = xRow(2), x3 = xRow(3), x4 = xRow(4), x5 = xRow(5)
    let x6 = xRow(6), x7 = xRow(7)
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    var c60 = V(), c61 = V(), c70 = V(), c71 = V()
    var p = packed
    for kk in 0..<kc {
        let (w0, w1) = F.load(p)
        p += F.bytesPerK
        var a = V(repeating: x0[kk])
        c00 = c00.addingProduct(a, w0); c01 = c01.addingProduct(a, w1)
        a = V(repeating: x1[kk])
        c10 = c10.addingProduct(a, w0); c11 = c11.addingProduct(a, w1)
        a = V(repeating: x2[kk])
        c20 = c20.addingProduct(a, w0); c21 = c21.addingProduct(a, w1)
        a = V(repeating: x3[kk])
        c30 = c30.addingProduct(a, w0); c31 = c31.addingProduct(a, w1)
        a = V(repeating: x4[kk])
        c40 = c40.addingProduct(a, w0); c41 = c41.addingProduct(a, w1)
        a = V(repeating: x5[kk])
        c50 = c50.addingProduct(a, w0); c51 = c51.addingProduct(a, w1)
        a = V(repeating: x6[kk])
        c60 = c60.addingProduct(a, w0); c61 = c61.addingProduct(a, w1)
        a = V(repeating: x7[kk])
        c70 = c70.addingProduct(a, w0); c71 = c71.addingProduct(a, w1)
    }
    @inline(__always) func store(_ r: Int, _ lo: V, _ hi: V) {
        if r < rows { storeRow(y + r * ldy, lo, hi, cols: cols, add: add) }
    }
    store(0, c00, c01); store(1, c10, c11); store(2, c20, c21); store(3, c30, c31)
    store(4, c40, c41); store(5, c50, c51); store(6, c60, c61); store(7, c70, c71)
}

/// The 12x32 kernel's shape for 1-4 rows (a tail after blocks of 12 or 8).
@inline(never)
func microKernel4x32<F: PanelFormat>(_ format: F.Type, kc: Int, x: UnsafePointer<Float>, ldx: Int, rows: Int,
                      packed: UnsafeRawPointer, y: UnsafeMutablePointer<Float>, ldy: Int,
                     cols: Int, add: Bool) {
    typealias V = SIMD16<Float>
    @inline(__always) func xRow(_ r: Int) -> UnsafePointer<Float> { x + min(r, rows - 1) * ldx }
    let x0 = xRow(0), x1 = xRow(1), x2 = xRow(2), x3 = xRow(3)
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V(), c30 = V(), c31 = V()
    var p = packed
    for kk in 0..<kc {
        let (w0, w1) = F.load(p)
        p += F.bytesPerK
        var a = V(repeating: x0[kk])
        c00 = c00.addingProduct(a, w0); c01 = c01.addingProduct(a, w1)
        a = V(repeating: x1[kk])
        c10 = c10.addingProduct(a, w0); c11 = c11.addingProduct(a, w1)
        a = V(repeating: x2[kk])
        c20 = c20.addingProduct(a, w0); c21 = c21.addingProduct(a, w1)
        a = V(repeating: x3[kk])
        c30 = c30.addingProduct(a, w0); c31 = c31.addingProduct(a, w1)
    }
    @inline(__always) func store(_ r: Int, _ lo: V, _ hi: V) {
        if r < rows { storeRow(y + r * ldy, lo, hi, cols: cols, add: add) }
    }
    store(0, c00, c01); store(1, c10, c11); store(2, c20, c21); store(3, c30, c31)
}
