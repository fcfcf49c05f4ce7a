import DLCMEngine

extension APIServer {
    /// POST /v1/completions: parse and check, then hand every (prompt, choice) sequence to the
    /// engine; its events drive a `GenerationJob` that answers once or streams.
    func completions(_ ex: Exchange) throws {
        if isDraining { throw APIError.draining }
        let request = try CompletionRequest(try RequestBody(ex.request.body), server: self)
        let job = GenerationJob(server: self, exchange: ex, fields: request.fields,
                                renderer: CompletionRenderer(server: self, request: request),
                                prompts: request.prompts.map { ($0.text, $0.tokens) })
        try job.submit(documents: request.prompts.map { engine.bundle.document(tokens: $0.tokens) },
                       promptLogprobs: request.echo ? request.logprobs : nil, cacheAnswer: request.prompts.count == 1)
    }
}
