import Locking
import DLCMEngine
import DLCMRuntime
import StrictJSON

extension APIServer {
    /// POST /v1/segment: {"text": "..."} or {"tokens": [...]} -> the concepts the router draws.
    /// The text goes through the engine like a prompt (chunked, batched with running streams) and
    /// the router's per-token boundary probabilities come back.
    func segment(_ ex: Exchange) throws {
        if isDraining { throw APIError.draining }
        let body = try RequestBody(ex.request.body)
        try checkModel(body)
        // Every alternative is type-checked, whichever is used (the schema promises it).
        let given = try body.tokens("tokens", vocabSize: modelConfig.vocabSize)
        let text = try body.string("text"), input = try body.string("input")
        let tokens: [Int32]
        if let given {
            tokens = given
        } else if let text = text ?? input {
            tokens = tokenizer.encode(text, parseSpecial: false)
        } else {
            throw APIError.invalid("text", "is required (a string), or give 'tokens'")
        }
        guard tokens.count + 1 <= modelConfig.maxSeqLen else {
            throw APIError.badRequest("the text is \(tokens.count) tokens (plus 1 BOS); this model reads at most \(modelConfig.maxSeqLen)",
                                      param: "text", code: "context_length_exceeded")
        }
        // The router's probabilities depend only on the encoder, never on where concepts were cut,
        // so re-cutting them at another threshold shows exactly what that threshold would do.
        let logged = configuration.logPrompts ? try body.string("text") ?? body.string("input") : nil
        ex.note { log in
            log.promptTokens = tokens.count
            if let logged { log.prompts = [logged] }
        }
        let threshold = try body.float("threshold") ?? modelConfig.threshold
        guard threshold > 0, threshold <= 1 else { throw APIError.invalid("threshold", "must be in (0, 1]") }
        let includeTokens = try body.bool("include_tokens") ?? true
        var parameters = GenerationParameters()
        parameters.maxTokens = 0
        let result = Locked<PromptResult?>(nil)
        let request = EngineRequest(prompt: engine.bundle.document(tokens: tokens), parameters: parameters) { [self] event in
            switch event {
            case .prompt(let p): result.withLock { $0 = p }
            case .finished(.cancelled, _, _): ex.record(499)
            case .finished:
                if let p = result.withLock({ $0 }) { ex.respond(segmentation(tokens, p, threshold: threshold, includeTokens: includeTokens)) }
            case .failed(let m): ex.respond(.internalError(m))
            default: break
            }
        }
        do { try engine.submit([request]) } catch EngineError.queueFull { throw APIError.queueFull }
        ex.onCancel { request.cancel() }
    }

    /// Concepts over the caller's tokens (the BOS at index 0 of `p` is dropped). The first token
    /// always opens concept 0 from the caller's point of view; `starts_concept` still reports the
    /// router's own decision for it (false = it continued the segment BOS opened).
    func segmentation(_ tokens: [Int32], _ p: PromptResult, threshold: Float, includeTokens: Bool) -> JSON {
        var tokenItems: [JSON] = [], concepts: [JSON] = []
        var bytes: [UInt8] = [], offsets: [Int] = []
        for t in tokens {
            offsets.append(bytes.count)
            tokenizer.appendBytes(of: t, skipSpecial: false, to: &bytes)
        }
        offsets.append(bytes.count)
        var starts: [Int] = []
        for (i, t) in tokens.enumerated() {
            let flag = threshold == modelConfig.threshold ? p.boundaries[i + 1] : p.boundaryProbs[i + 1] >= threshold
            if i == 0 || flag { starts.append(i) }
            tokenItems.append(.object([
                ("index", .int(i)), ("id", .int(Int(t))), ("text", .string(tokenString(t))),
                ("byte_offset", .int(offsets[i])), ("boundary_probability", JSON.number(p.boundaryProbs[i + 1])),
                ("starts_concept", .bool(flag)), ("concept", .int(starts.count - 1)),
            ]))
        }
        for (c, start) in starts.enumerated() {
            let end = c + 1 < starts.count ? starts[c + 1] : tokens.count
            let probs = p.boundaryProbs[(start + 1)..<(end + 1)]
            concepts.append(.object([
                ("index", .int(c)), ("token_start", .int(start)), ("token_end", .int(end)),
                ("byte_start", .int(offsets[start])), ("byte_end", .int(offsets[end])),
                ("text", .string(String(decoding: bytes[offsets[start]..<offsets[end]], as: UTF8.self))),
                ("tokens", .array(tokens[start..<end].map { .int(Int($0)) })),
                ("boundary_probability", JSON.number(p.boundaryProbs[start + 1])),
                ("mean_boundary_probability", JSON.number(probs.reduce(0, +) / Float(probs.count))),
            ]))
        }
        return .object([
            ("object", .string("segmentation")), ("model", .string(modelName)),
            ("threshold", JSON.number(threshold)),
            ("concepts", .array(concepts)), ("tokens", includeTokens ? .array(tokenItems) : .null),
            ("usage", .object([
                ("tokens", .int(tokens.count)), ("concepts", .int(concepts.count)),
                ("tokens_per_concept", .double(concepts.isEmpty ? 0 : Double(tokens.count) / Double(concepts.count))),
            ])),
        ])
    }
}
