import DLCMEngine
import DLCMRuntime
import Tokenization
import StrictJSON

/// A POST /v1/completions body, parsed and checked against the limits and the model.
struct CompletionRequest {
    /// One prompt as the client sent it: its text (decoded when given as ids) and its token ids,
    /// without the BOS prefix the model reads first.
    struct Prompt {
        var text: String
        var tokens: [Int32]
    }

    var prompts: [Prompt] = []
    var fields: GenerationFields
    var echo = false
    /// Legacy logprobs: top entries per token (0-20), nil for none.
    var logprobs: Int?

    init(_ body: RequestBody, server: APIServer) throws {
        let config = server.modelConfig, limits = server.configuration
        try server.checkModel(body)
        prompts = try Self.prompts(body.value("prompt"), tokenizer: server.tokenizer, vocabSize: config.vocabSize,
                                   maxPrompts: limits.maxChoices, contextLength: config.maxSeqLen)
        fields = try GenerationFields(body, server: server, prompts: prompts.count)
        fields.generation.maxTokens = try GenerationFields.maxTokens(body, key: "max_tokens", fallback: 16, server: server)
        for p in prompts {
            try GenerationFields.checkContext(promptTokens: p.tokens.count, maxTokens: fields.generation.maxTokens,
                                              param: "max_tokens", server: server)
        }
        echo = try body.bool("echo") ?? false
        if let lp = try body.int("logprobs") {
            guard lp >= 0, lp <= 20 else { throw APIError.invalid("logprobs", "must be between 0 and 20") }
            logprobs = lp
            fields.generation.logprobs = lp
        }
    }

    /// `prompt`: a string, an array of token ids, or an array of either (a batch).
    /// More than `maxPrompts` is refused before any is tokenized: each costs event-loop time, and
    /// a 1 MB body holds 200k one-letter prompts.
    /// Token-id prompts that cannot fit the context are refused before they are decoded to text.
    static func prompts(_ value: JSON?, tokenizer: Tokenizer, vocabSize: Int, maxPrompts: Int, contextLength: Int) throws -> [Prompt] {
        func text(_ s: String) -> Prompt { Prompt(text: s, tokens: tokenizer.encode(s, parseSpecial: false)) }
        func ids(_ v: JSON) throws -> Prompt {
            let t = try RequestBody.tokenArray(v, param: "prompt", vocabSize: vocabSize)
            guard t.count + 1 <= contextLength else {
                throw APIError.badRequest(
                    "this model's maximum context length is \(contextLength) tokens; the prompt is \(t.count) tokens (plus 1 BOS): shorten the prompt",
                    param: "prompt", code: "context_length_exceeded")
            }
            return Prompt(text: tokenizer.decode(t), tokens: t)
        }
        switch value {
        case nil: throw APIError.invalid("prompt", "is required")
        case .string(let s)?: return [text(s)]
        case .array(let items)?:
            guard !items.isEmpty else { throw APIError.invalid("prompt", "must not be an empty array") }
            if items.allSatisfy({ if case .int = $0 { true } else { false } }) { return [try ids(value!)] }
            guard items.count <= maxPrompts else {
                throw APIError.invalid("n", "times the number of prompts must be at most \(maxPrompts)")
            }
            return try items.map { item in
                switch item {
                case .string(let s): return text(s)
                case .array: return try ids(item)
                default: throw APIError.invalid("prompt", "must be a string, an array of token ids, or an array of those")
                }
            }
        default: throw APIError.invalid("prompt", "must be a string, an array of token ids, or an array of those")
        }
    }
}
