/// Element type of a weight matrix as stored in memory (activations are always f32).
public enum WeightType: Sendable, Equatable, CustomStringConvertible {
    case f32
    case bf16
    case f16
    /// Blocks of 32 weights of a row: 32 int8 codes, one f16 scale apart (Quantization.swift).
    case q8_0
    /// Blocks of 32 weights of a row: 16 bytes of 4-bit codes, one f16 scale apart.
    case q4_0

    /// Whether the matrix holds codes plus per-block scales (`WeightMatrix.scales`).
    @inlinable @inline(__always) public var isQuantized: Bool {
        switch self {
        case .f32, .bf16, .f16: return false
        case .q8_0, .q4_0: return true
        }
    }

    /// Bytes per element of the float types. Quantized types have no such size (q4_0 packs two
    /// codes a byte, and both keep their scales apart): ask `rowBytes` instead.
    public var byteSize: Int {
        switch self {
        case .f32: return 4
        case .bf16, .f16: return 2
        case .q8_0, .q4_0: fatalError("\(self) has no byte size per element; use rowBytes")
        }
    }

    /// Bytes of `cols` consecutive elements of a row (quantized types: of its codes, `cols` a
    /// multiple of `quantBlock`; the scales are a separate array).
    @inlinable @inline(__always) public func rowBytes(_ cols: Int) -> Int {
        switch self {
        case .f32: return 4 * cols
        case .bf16, .f16: return 2 * cols
        case .q8_0: return cols
        case .q4_0: return cols / 2
        }
    }

    public var description: String {
        switch self {
        case .f32: return "f32"
        case .bf16: return "bf16"
        case .f16: return "f16"
        case .q8_0: return "q8_0"
        case .q4_0: return "q4_0"
        }
    }
}

/// A read-only view of a weight matrix in PyTorch `Linear` layout: row-major `(rows = out, cols = in)`.
///
/// The memory is not owned (typically it points into a memory-mapped weight file) and need not
/// be aligned: kernels use unaligned loads.
public struct WeightMatrix: @unchecked Sendable {
    /// (rows, cols) elements of `type`, row-major; for quantized types the codes,
    /// (rows, type.rowBytes(cols)) bytes.
    public let base: UnsafeRawPointer
    public let type: WeightType
    /// Output features (N).
    public let rows: Int
    /// Input features (K).
    public let cols: Int
    /// Quantized types: (rows, cols / quantBlock) f16 scales, one per block of 32 weights of a
    /// row. nil for float types.
    public let scales: UnsafeRawPointer?
    /// The same matrix already packed for the matmul micro-kernel (see PackedWeights.swift), or
    /// nil: then each matmul of more than `maxMatvecRows` rows packs the panels it needs itself.
    /// Always nil for quantized matrices (a packed copy would be 4-8x the bytes they hold).
    public var packed: PackedPanels?
    /// With `packed`, matmuls of up to this many rows still take `matvec` (reading W in its own,
    /// narrower type). Default `packedMinRows - 1`; `maxMatvecRows` for a matrix whose weights
    /// are read once per step and are rarely in cache then, when its packed copy is wider than
    /// its own type (a DLCM's concept-level matrices of f16 weights, packed as f32).
    public var matvecMaxRows = packedMinRows - 1
    /// Quantized types: how `matvec` multiplies them (QuantizedDot.swift).
    public var quantizedProducts = QuantizedProducts.preferred

    /// - Parameter scales: required for quantized types (whose `cols` must be a multiple of
    ///   `quantBlock`), absent for float types.
    public init(base: UnsafeRawPointer, type: WeightType, rows: Int, cols: Int, scales: UnsafeRawPointer? = nil) {
        precondition(rows >= 0 && cols >= 0, "negative weight matrix shape")
        precondition(type.isQuantized == (scales != nil), "\(type) weights \(type.isQuantized ? "need" : "take no") scales")
        precondition(!type.isQuantized || cols % quantBlock == 0, "\(type) weights need a width that is a multiple of \(quantBlock), got \(cols)")
        self.base = base
        self.type = type
        self.rows = rows
        self.cols = cols
        self.scales = scales
    }

    /// An f32 matrix. `base`: (rows, cols).
    public init(f32 base: UnsafePointer<Float>, rows: Int, cols: Int) {
        self.init(base: UnsafeRawPointer(base), type: .f32, rows: rows, cols: cols)
    }

    /// Bytes per row (quantized types: of codes).
    @inlinable @inline(__always) public var rowStride: Int { type.rowBytes(cols) }

    /// Start of row `n` (quantized types: of its codes).
    @inlinable @inline(__always) public func row(_ n: Int) -> UnsafeRawPointer { base + n * rowStride }

    /// Bytes of scales per row (quantized types).
    @inlinable @inline(__always) public var scaleRowStride: Int { cols / quantBlock * 2 }

    /// Start of row `n`'s scales (quantized types only).
    @inlinable @inline(__always) public func scaleRow(_ n: Int) -> UnsafeRawPointer { scales! + n * scaleRowStride }

    /// Row `n` decoded (dequantized) to f32, as every kernel reads it.
    /// - Parameter dst: (cols) f32 output.
    public func decodeRow(_ n: Int, into dst: UnsafeMutablePointer<Float>) {
        if type.isQuantized {
            dequantize(codes: row(n), scales: scaleRow(n), type: type, count: cols, into: dst)
        } else {
            convertToFloat(dst, row(n), type: type, count: cols)
        }
    }

    /// Element (r, c) decoded to f32 (scalar edges of the kernels).
    @inline(__always) @usableFromInline
    func element(_ r: Int, _ c: Int) -> Float {
        switch type {
        case .f32, .bf16, .f16: return loadElement(row(r), c, type)
        case .q8_0, .q4_0: return quantizedElement(row(r), scaleRow(r), c, type)
        }
    }
}

/// A weight matrix packed at load for the matmul micro-kernel (layouts in PackedWeights.swift).
public enum PackedPanels: @unchecked Sendable {
    /// Panels of f32 (from f32 or f16 weights).
    case f32(UnsafePointer<Float>)
    /// Panels of bf16 pairs (from bf16 weights): half the bytes, widened in the kernel.
    case bf16Pairs(UnsafeRawPointer)
}
