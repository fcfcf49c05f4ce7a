/// Errors the runtime reports to its caller; none of them crash the process.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    /// config.json is unreadable or describes an impossible model.
    case config(String)
    /// model.safetensors does not match the config (missing, unexpected or misshapen tensors).
    case weights(String)
    /// A sequence would grow past `max_seq_len`.
    case contextLengthExceeded(limit: Int, requested: Int)
    /// A token id outside 0..<vocab_size.
    case invalidToken(Int32)
    /// The caller passed something the runtime cannot use (empty batch, a sequence twice, ...).
    case invalidArgument(String)
    /// A caller's parameter is out of range: its name as the API spells it, and why.
    case invalidParameter(name: String, reason: String)

    public var description: String {
        switch self {
        case .config(let m): return m
        case .weights(let m): return m
        case .contextLengthExceeded(let limit, let requested):
            return "this model's maximum context length is \(limit) tokens, the sequence would need \(requested)"
        case .invalidToken(let t): return "token id \(t) is outside the vocabulary"
        case .invalidArgument(let m): return m
        case .invalidParameter(let name, let reason): return "\(name) \(reason)"
        }
    }
}
