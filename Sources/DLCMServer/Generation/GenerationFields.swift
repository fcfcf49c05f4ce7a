import DLCMEngine
import DLCMRuntime
import StrictJSON
import StructuredOutput

/// The request fields /v1/completions and /v1/chat/completions share: sampling, stop strings,
/// `n`, streaming and the `dlcm` extension. Each endpoint reads its prompt, its token limit and its
/// own logprobs shape itself.
struct GenerationFields {
    var generation = GenerationParameters()
    var n = 1
    var stream = false
    var includeUsage = false
    /// DLCM extension: `"dlcm": {"concepts": true}`.
    var concepts = false
    /// DLCM extension: `"dlcm": {"timeout": seconds}` (bounded by the server's own).
    var timeout: Double?
    /// `response_format`; a JSON format sets `generation.constraint`.
    var format = ResponseFormat.text
    /// `cache_prompt`: resume from and add to the prefix cache (default true).
    var cachePrompt = true
    /// `cache_salt`: only requests with the same salt share cached prompts.
    var cacheSalt = ""
    /// Longest `cache_salt`, in characters.
    static let maxCacheSaltCharacters = 1024

    /// - Parameter prompts: how many prompts the request holds (n times it is bounded).
    init(_ body: RequestBody, server: APIServer, prompts: Int) throws {
        let limits = server.configuration
        n = try body.int("n") ?? 1
        guard n >= 1, n <= limits.maxChoices else { throw APIError.invalid("n", "must be between 1 and \(limits.maxChoices)") }
        guard n * prompts <= limits.maxChoices else {
            throw APIError.invalid("n", "times the number of prompts must be at most \(limits.maxChoices)")
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
            try s.validate(vocabSize: server.modelConfig.vocabSize)
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

        format = try ResponseFormat(body)
        try constrain(format.constraint(server.engine.bundle.outputConstraints), by: "response_format")

        cachePrompt = try body.bool("cache_prompt") ?? true
        if let salt = try body.string("cache_salt") {
            guard salt.unicodeScalars.count <= Self.maxCacheSaltCharacters else {
                throw APIError.invalid("cache_salt", "must be at most \(Self.maxCacheSaltCharacters) characters")
            }
            cacheSalt = salt
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

    /// The request's prefix-cache scope (`EngineRequest.cacheScope`): its salt and, with API keys
    /// and an unshared cache, the key it presented; nil with `cache_prompt: false`.
    func cacheScope(authorization: String?, server: APIServer) -> String? {
        guard cachePrompt else { return nil }
        let keys = server.configuration.apiKeys
        let tenant = keys.isEmpty || server.configuration.prefixCacheShared ? "" : keys.keyIndex(authorization: authorization).map { "key \($0)" } ?? "open"
        return tenant + "\n" + cacheSalt   // the tenant part holds no newline: the pair is unambiguous
    }

    /// Sets the grammar the output must follow (nil: none), asked for by field `field`. The
    /// output ends where the grammar does, so `ignore_eos` beside it is refused.
    mutating func constrain(_ constraint: TokenConstraint?, by field: String) throws {
        generation.constraint = constraint
        guard constraint != nil, generation.ignoreEOS else { return }
        throw APIError.badRequest("'ignore_eos' cannot be combined with '\(field)': the output ends where its grammar does",
                                  param: "ignore_eos", code: "invalid_parameter")
    }

    /// `key` (a token limit) checked against the server's limit and the context left after the
    /// longest prompt; `fallback` when absent.
    static func maxTokens(_ body: RequestBody, key: String, fallback: Int, server: APIServer) throws -> Int {
        let limit = min(server.configuration.maxTokensLimit, server.modelConfig.maxSeqLen - 1)
        let value = try body.int(key) ?? fallback
        guard value >= 0, value <= limit else { throw APIError.invalid(key, "must be between 0 and \(limit)") }
        return value
    }

    /// A 400 unless BOS + `promptTokens` + `maxTokens` fit the model's context.
    static func checkContext(promptTokens: Int, maxTokens: Int, param: String, server: APIServer) throws {
        let context = server.modelConfig.maxSeqLen
        // +1: the BOS the model reads before the prompt.
        guard promptTokens + 1 + maxTokens <= context else {
            throw APIError.badRequest(
                "this model's maximum context length is \(context) tokens; the prompt is \(promptTokens) tokens (plus 1 BOS) and \(param) is \(maxTokens): shorten the prompt or lower \(param)",
                param: "prompt", code: "context_length_exceeded")
        }
    }
}
