import StrictJSON
/// POST /v1/tokenize and /v1/detokenize: the tokenizer alone, no model pass.
extension APIServer {
    /// {"text": "..."} (or "prompt") -> {"tokens": [...], "count": n, "max_model_len": L}.
    /// The model's BOS prefix is added only with "add_bos": true.
    func tokenize(_ ex: Exchange) throws {
        let body = try RequestBody(ex.request.body)
        try checkModel(body)
        // Both spellings are type-checked, whichever is used (the schema promises it).
        let text = try body.string("text"), prompt = try body.string("prompt")
        guard let text = text ?? prompt else { throw APIError.invalid("text", "is required (a string)") }
        let bundle = engine.bundle
        let ids = try body.bool("add_bos") ?? false ? bundle.document(text: text) : tokenizer.encode(text, parseSpecial: false)
        var fields: [(String, JSON)] = [
            ("tokens", .array(ids.map { .int(Int($0)) })), ("count", .int(ids.count)),
            ("max_model_len", .int(modelConfig.maxSeqLen)),
        ]
        if try body.bool("return_token_strings") ?? false {
            fields.append(("token_strings", .array(ids.map { .string(tokenizer.decode([$0])) })))
        }
        ex.respond(.object(fields))
    }

    /// {"tokens": [...]} -> {"text": "..."}; special tokens are kept unless "skip_special": true.
    func detokenize(_ ex: Exchange) throws {
        let body = try RequestBody(ex.request.body)
        try checkModel(body)
        guard let ids = try body.tokens("tokens", vocabSize: tokenizer.vocabSize) else {
            throw APIError.invalid("tokens", "is required (an array of token ids)")
        }
        let skip = try body.bool("skip_special") ?? false
        ex.respond(.object([("text", .string(tokenizer.decode(ids, skipSpecial: skip)))]))
    }
}
