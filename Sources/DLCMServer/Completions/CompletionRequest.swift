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
    var generation = GenerationParameters()
    var n = 1
    var echo = false
    var logprobs: Int?
    var stream = false
    var includeUsage = false
    /// DLCM extension: `"dlcm": {"concepts": true}`.
    var concepts = false
    /// DLCM extension: `"dlcm": {"timeout": seconds}` (bounded by the server's own).
    var timeout: Double?

    init(_ body: RequestBody, server: APIServer) throws {
        let config = server.modelConfig, limits = server.configuration
        let tokenizer = server.tokenizer
        try server.checkModel(body)
        prompts = try Self.prompts(body.value("prompt"), tokenizer: tokenizer, vocabSize: config.vocabSize,
                                   maxPrompts: limits.maxChoices, contextLength: config.maxSeqLen)

        n = try body.int("n") ?? 1
        guard n >= 1, n <= limits.maxChoices else { throw APIError.invalid("n", "must be between 1 and \(limits.maxChoices)") }
        guard n * prompts.count <= limits.maxChoices else {
            throw APIError.invalid("n", "times the number of prompts must be at most \(limits.maxChoices)")
        }
        let maxTokensLimit = min(limits.maxTokensLimit, config.maxSeqLen - 1)
        generation.maxTokens = try body.int("max_tokens") ?? 16
        guard generation.maxTokens >= 0, generation.maxTokens <= maxTokensLimit else {
            throw APIError.invalid("max_tokens", "must be between 0 and \(maxTokensLimit)")
        }
        for p in prompts {
            // +1: the BOS the model reads before the prompt.
            let need = p.tokens.count + 1 + generation.maxTokens
            guard need <= config.maxSeqLen else {
                throw APIError.badRequest(
                    "this model's maximum context length is \(config.maxSeqLen) tokens; the prompt is \(p.tokens.count) tokens (plus 1 BOS) and max_tokens is \(generation.maxTokens): shorten the prompt or lower max_tokens",
                    param: "prompt", code: "context_length_exceeded")
            }
        }

        var s = SamplingParameters()
        s.temperature = try body.float("temperature") ?? 1
        s.topP = try body.float("top_p") ?? 1
        let topK = try body.int("top_k") ?? 0
        s.topK = topK == -1 ? 0 : topK
        s.minP = try body.float("min_p") ?? 0
        s.presencePenalty = try body.float("presence_penalty") ?? 0
        s.frequencyPenalty = try body.float("frequency_penalty") ?? 0
        s.repetitionPenalty = try body.float("repetition_penalty") ?? 1
        if let seed = try body.int("seed") { s.seed = UInt64(bitPattern: Int64(seed)) }
        if let bias = try body.object("logit_bias") {
            guard case .object(let pairs) = bias.json else { throw APIError.invalid("logit_bias", "must be an object") }
            for (key, _) in pairs {
                guard let id = Int32(key) else { throw APIError.invalid("logit_bias", "keys must be token ids") }
                guard let b = try? bias.float(key) else { throw APIError.invalid("logit_bias", "values must be numbers") }
                s.logitBias[id] = b
            }
        }
        do {
            try s.validate(vocabSize: config.vocabSize)
        } catch ModelError.invalidParameter(let name, let reason) {
            throw APIError.badRequest("'\(name)' \(reason)", param: name, code: "invalid_parameter")
        }
        generation.sampling = s

        switch body.value("stop") {
        case nil: break
        case .string(let s)?: generation.stop = [s]
        case .array(let items)?:
            generation.stop = try items.map {
                guard case .string(let s) = $0 else { throw APIError.invalid("stop", "must be a string or an array of strings") }
                return s
            }
        default: throw APIError.invalid("stop", "must be a string or an array of strings")
        }
        // Characters as JSON Schema counts them (Unicode scalars): at most 1 KiB of UTF-8 each.
        guard generation.stop.count <= 16, generation.stop.allSatisfy({ $0.unicodeScalars.count <= 256 }) else {
            throw APIError.invalid("stop", "takes at most 16 strings of at most 256 characters")
        }
        generation.ignoreEOS = try body.bool("ignore_eos") ?? false

        echo = try body.bool("echo") ?? false
        if let lp = try body.int("logprobs") {
            guard lp >= 0, lp <= 20 else { throw APIError.invalid("logprobs", "must be between 0 and 20") }
            logprobs = lp
            generation.logprobs = lp
        }
        stream = try body.bool("stream") ?? false
        if let options = try body.object("stream_options") {
            includeUsage = try options.bool("include_usage") ?? false
        }
        if let ext = try body.object("dlcm") {
            concepts = try ext.bool("concepts") ?? false
            if let t = try ext.double("timeout") {
                guard t > 0 else { throw APIError.invalid("dlcm.timeout", "must be a positive number of seconds") }
                timeout = t
            }
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
