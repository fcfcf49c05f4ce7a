import DLCMEngine
import DLCMRuntime
import Foundation
import MonotonicTime

extension APIServer {
    /// POST /v1/completions: parse and check, then hand every (prompt, choice) sequence to the
    /// engine; its events drive a `CompletionJob` that answers once or streams.
    func completions(_ ex: Exchange) throws {
        if isDraining { throw APIError.draining }
        let request = try CompletionRequest(try RequestBody(ex.request.body), server: self)
        let job = CompletionJob(server: self, exchange: ex, request: request)
        let timeout = min(configuration.requestTimeout, request.timeout ?? .infinity)
        let deadline = monotonicNanoseconds() + UInt64(timeout * 1e9)
        var engineRequests: [EngineRequest] = []
        for (p, prompt) in request.prompts.enumerated() {
            for c in 0..<request.n {
                var parameters = request.generation
                // The n choices of one prompt are independent samples: seed, seed+1, ...
                if let seed = parameters.sampling.seed { parameters.sampling.seed = seed &+ UInt64(c) }
                let index = p * request.n + c
                engineRequests.append(EngineRequest(
                    prompt: engine.bundle.document(tokens: prompt.tokens), parameters: parameters,
                    promptLogprobs: request.echo ? request.logprobs : nil, reportConcepts: request.concepts,
                    deadline: deadline) { event in job.handle(event, choice: index) })
            }
        }
        job.setRequests(engineRequests)
        do {
            try engine.submit(engineRequests)
        } catch EngineError.queueFull {
            job.setRequests([])
            throw APIError.queueFull
        } catch EngineError.stopped {
            job.setRequests([])
            throw APIError.draining
        } catch {
            job.setRequests([])
            throw APIError.internalError("\(error)")
        }
        ex.onCancel { job.cancel() }
    }
}
