import DLCMEngine

extension APIServer {
    /// POST /v1/chat/completions: the conversation rendered by the chat template, then generated
    /// as /v1/completions does, answered in the chat shape.
    func chatCompletions(_ ex: Exchange) throws {
        if isDraining { throw APIError.draining }
        let request = try ChatRequest(try RequestBody(ex.request.body), server: self)
        let job = GenerationJob(server: self, exchange: ex, fields: request.fields,
                                renderer: ChatRenderer(server: self, request: request),
                                prompts: [(request.prompt, request.promptTokens)])
        try job.submit(documents: [engine.bundle.document(tokens: request.promptTokens)], promptLogprobs: nil, cacheAnswer: true)
    }
}
