/// Element type of a weight matrix as stored in memory (activations are always f32).
public enum WeightType: Sendable, Equatable, CustomStringConvertible {
    case f32
    case bf16
    case f16

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f32: return 4
        case .bf16, .f16: return 2
        }
    }

    public var description: String {
        switch self {
        case .f32: return "f32"
        case .bf16: return "bf16"
        case .f16: return "f16"
        }
    }
}

/// A read-only view of a weight matrix in PyTorch `Linear` layout: row-major `(rows = out, cols = in)`.
///
/// The memory is not owned (typically it points into a memory-mapped weight file) and need not
/// be aligned: kernels use unaligned loads.
public struct WeightMatrix: @unchecked Sendable {
    /// (rows, cols) elements of `type`, row-major.
    public let base: UnsafeRawPointer
    public let type: WeightType
    /// Output features (N).
    public let rows: Int
    /// Input features (K).
    public let cols: Int
    /// The same matrix already packed for the matmul micro-kernel (see PackedWeights.swift), or
    /// nil: then each matmul of more than `maxMatvecRows` rows packs the panels it needs itself.
    public var packed: PackedPanels?
    /// With `packed`, matmuls of up to this many rows still take `matvec` (reading W in its own,
    /// narrower type). Default `packedMinRows - 1`; `maxMatvecRows` for a matrix whose weights
    /// are read once per step and are rarely in cache then, when its packed copy is wider than
    /// its own type (a DLCM's concept-level matrices of f16 weights, packed as f32).
    public var matvecMaxRows = packedMinRows - 1

    public init(base: UnsafeRawPointer, type: WeightType, rows: Int, cols: Int) {
        precondition(rows >= 0 && cols >= 0, "negative weight matrix shape")
        self.base = base
        self.type = type
        self.rows = rows
        self.cols = cols
    }

    /// An f32 matrix. `base`: (rows, cols).
    public init(f32 base: UnsafePointer<Float>, rows: Int, cols: Int) {
        self.init(base: UnsafeRawPointer(base), type: .f32, rows: rows, cols: cols)
    }

    /// Bytes per row.
    @inlinable public var rowStride: Int { cols * type.byteSize }

    /// Start of row `n`.
    @inlinable public func row(_ n: Int) -> UnsafeRawPointer { base + n * rowStride }
}

/// A weight matrix packed at load for the matmul micro-kernel (layouts in PackedWeights.swift).
public enum PackedPanels: @unchecked Sendable {
    /// Panels of f32 (from f32 or f16 weights).
    case f32(UnsafePointer<Float>)
    /// Panels of bf16 pairs (from bf16 weights): half the bytes, widened in the kernel.
    case bf16Pairs(UnsafeRawPointer)
}
