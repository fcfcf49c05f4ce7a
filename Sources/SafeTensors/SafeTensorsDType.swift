/// Element types this reader accepts (the safetensors dtype strings).
public enum SafeTensorsDType: String, Sendable, Equatable, CaseIterable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        }
    }
}
