/// Element types this reader accepts (the safetensors dtype strings).
public enum SafeTensorsDType: String, Sendable, Equatable, CaseIterable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"
    /// Codes of q8_0 quantized weights (weights/FORMAT.md, "Quantized checkpoints").
    case i8 = "I8"
    /// Codes of q4_0 quantized weights (two 4-bit codes a byte).
    case u8 = "U8"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .i8, .u8: return 1
        }
    }
}
