/// Everything that can go wrong while loading a tokenizer.json. Encoding and decoding never throw.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// The file is not JSON, or a required field is missing or has the wrong type.
    case invalidJSON(String)
    /// A pipeline stage names a `type` (or option) this implementation does not support.
    case unsupported(stage: String, type: String)
    /// A merge refers to a token that is not in the vocabulary.
    case mergeOutOfVocabulary(String)

    public var description: String {
        switch self {
        case .invalidJSON(let what): return "invalid tokenizer.json: \(what)"
        case .unsupported(let stage, let type): return "unsupported \(stage) type '\(type)'"
        case .mergeOutOfVocabulary(let token): return "merge uses token '\(token)' that is not in the vocabulary"
        }
    }
}
