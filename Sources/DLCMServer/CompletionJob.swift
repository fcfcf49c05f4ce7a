import DLCMEngine
import DLCMRuntime
import Foundation

/// One /v1/completions request across its choices. Engine events arrive on the engine thread
/// only; the HTTP loop only calls `cancel`. Answers once all choices have finished, or streams.
final class CompletionJob: @unchecked Sendable {
    struct Choice {
        var text = ""
        var tokens: [Int32] = []
        var logprobs: [TokenLogprobs?] = []
        var conceptStarts: [Bool?] = []
        var prompt: PromptResult?
        var stats: GenerationStats?
        var finish: FinishReason?
        var error: String?
    }

    let server: APIServer
    let exchange: Exchange
    let request: CompletionRequest
    let id = "cmpl-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    let created = Int(Date().timeIntervalSince1970)
    private var choices: [Choice]
    private var remaining: Int
    private let sse: SSEWriter?
    /// The engine requests, kept for cancelling; emptied at the end (they point back at the job).
    private let requests = ServerLocked<[EngineRequest]>([])

    init(server: APIServer, exchange: Exchange, request: CompletionRequest) {
        self.server = server
        self.exchange = exchange
        self.request = request
        choices = Array(repeating: Choice(), count: request.prompts.count * request.n)
        remaining = choices.count
        sse = request.stream ? SSEWriter(exchange: exchange, keepAliveSeconds: server.configuration.keepAliveInterval) : nil
    }

    func setRequests(_ r: [EngineRequest]) { requests.withLock { $0 = r } }
    func cancel() { for r in requests.withLock({ $0 }) { r.cancel() } }

    func handle(_ event: EngineEvent, choice i: Int) {
        switch event {
        case .waiting:
            sse?.keepAliveIfDue()
        case .prompt(let p):
            choices[i].prompt = p
            if let sse, request.echo {
                let prompt = request.prompts[i / request.n]
                let lp = request.logprobs != nil ? logprobsJSON(prompt.tokens, Array(p.logprobs.dropFirst())) : JSON.null
                sse.event(chunk([choiceJSON(i, text: prompt.text, logprobs: lp, finish: nil, extra: nil)]))
            }
        case .token(let t):
            choices[i].text += t.token.text
            choices[i].tokens.append(t.token.token)
            choices[i].logprobs.append(t.token.logprobs)
            choices[i].conceptStarts.append(t.startedConcept)
            guard let sse else { return }
            if t.token.text.isEmpty && request.logprobs == nil && !request.concepts { return }
            let lp = request.logprobs != nil ? logprobsJSON([t.token.token], [t.token.logprobs]) : JSON.null
            let extra: JSON? = request.concepts ? .object([("concept_starts", .array([t.startedConcept.map(JSON.bool) ?? .null]))]) : nil
            sse.event(chunk([choiceJSON(i, text: t.token.text, logprobs: lp, finish: nil, extra: extra)]))
        case .finished(let reason, let text, let stats):
            choices[i].text += text
            choices[i].finish = reason
            choices[i].stats = stats
            if let sse {
                let extra: JSON? = request.concepts ? .object([
                    ("prompt_concepts", .int(stats.promptConcepts)), ("completion_concepts", .int(stats.completionConcepts)),
                ]) : nil
                sse.event(chunk([choiceJSON(i, text: text, logprobs: request.logprobs != nil ? logprobsJSON([], []) : .null,
                                            finish: reason.rawValue, extra: extra)]))
            }
            choiceDone()
        case .failed(let message):
            choices[i].error = message
            choiceDone()
        }
    }

    private func choiceDone() {
        remaining -= 1
        guard remaining == 0 else { return }
        setRequests([])
        if let failure = choices.compactMap(\.error).first {
            let error = APIError.internalError("generation failed: \(failure)")
            if let sse { sse.fail(error) } else { exchange.respond(error) }
            return
        }
        if let sse {
            if request.includeUsage {
                var c = chunkFields([])
                c.append(("usage", usage))
                sse.event(.object(c))
            }
            sse.finish()
        } else {
            exchange.respond(response)
        }
    }

    // MARK: JSON

    private var usage: JSON {
        let prompt = request.prompts.reduce(0) { $0 + $1.tokens.count }
        let completion = choices.reduce(0) { $0 + ($1.stats?.completionTokens ?? $1.tokens.count) }
        return .object([("prompt_tokens", .int(prompt)), ("completion_tokens", .int(completion)), ("total_tokens", .int(prompt + completion))])
    }

    private func chunkFields(_ choices: [JSON]) -> [(String, JSON)] {
        [("id", .string(id)), ("object", .string("text_completion")), ("created", .int(created)),
         ("model", .string(server.modelName)), ("choices", .array(choices))]
    }

    private func chunk(_ choices: [JSON]) -> JSON {
        var c = chunkFields(choices)
        if request.includeUsage { c.append(("usage", .null)) }
        return .object(c)
    }

    private func choiceJSON(_ i: Int, text: String, logprobs: JSON, finish: String?, extra: JSON?) -> JSON {
        var f: [(String, JSON)] = [("index", .int(i)), ("text", .string(text)), ("logprobs", logprobs),
                                   ("finish_reason", finish.map(JSON.string) ?? .null)]
        if let extra { f.append(("dlcm", extra)) }
        return .object(f)
    }

    /// The non-streaming answer.
    private var response: JSON {
        let items: [JSON] = choices.enumerated().map { i, c in
            let prompt = request.prompts[i / request.n]
            var text = c.text, lpTokens = c.tokens, lps = c.logprobs
            if request.echo {
                text = prompt.text + text
                lpTokens = prompt.tokens + lpTokens
                lps = Array((c.prompt?.logprobs ?? []).dropFirst()) + lps
                if lps.count < lpTokens.count { lps = Array(repeating: nil, count: lpTokens.count - lps.count) + lps }
            }
            var extra: JSON?
            if request.concepts {
                extra = .object([
                    ("prompt_concepts", .int(c.stats?.promptConcepts ?? 0)),
                    ("completion_concepts", .int(c.stats?.completionConcepts ?? 0)),
                    ("concept_starts", .array(c.conceptStarts.map { $0.map(JSON.bool) ?? .null })),
                ])
            }
            return choiceJSON(i, text: text, logprobs: request.logprobs != nil ? logprobsJSON(lpTokens, lps) : .null,
                              finish: c.finish?.rawValue, extra: extra)
        }
        var f = chunkFields(items)
        f.append(("usage", usage))
        return .object(f)
    }

    /// OpenAI's legacy completions logprobs object for these tokens.
    private func logprobsJSON(_ tokens: [Int32], _ lps: [TokenLogprobs?]) -> JSON {
        var strings: [JSON] = [], values: [JSON] = [], tops: [JSON] = [], offsets: [JSON] = []
        var offset = 0
        var bytes: [UInt8] = []
        for (k, t) in tokens.enumerated() {
            strings.append(.string(server.tokenString(t)))
            // UTF-8 byte offsets: a token may hold part of a character, so character offsets
            // would not be well defined.
            offsets.append(.int(offset))
            bytes.removeAll(keepingCapacity: true)
            server.tokenizer.appendBytes(of: t, skipSpecial: false, to: &bytes)
            offset += bytes.count
            let lp = k < lps.count ? lps[k] : nil
            values.append(lp.map { JSON.number($0.logprob) } ?? .null)
            tops.append(lp.map { l in .object(l.top.map { (server.tokenString($0.token), JSON.number($0.logprob)) }) } ?? .null)
        }
        return .object([("tokens", .array(strings)), ("token_logprobs", .array(values)),
                        ("top_logprobs", .array(tops)), ("text_offset", .array(offsets))])
    }
}

extension APIServer {
    /// A token as text for logprobs: its bytes when they are valid UTF-8, else `bytes:\xNN...`
    /// (OpenAI's convention for tokens that hold part of a character).
    func tokenString(_ id: Int32) -> String {
        var bytes: [UInt8] = []
        tokenizer.appendBytes(of: id, skipSpecial: false, to: &bytes)
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        return "bytes:" + bytes.map { "\\x" + String($0, radix: 16, uppercase: false).leftPadded(2) }.joined()
    }
}

private extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
