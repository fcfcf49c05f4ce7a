import DLCMEngine
import DLCMRuntime
import StrictJSON

/// The text-completion shape: `text_completion` objects and chunks, the legacy logprobs object,
/// `echo`.
final class CompletionRenderer: ResponseRenderer {
    let server: APIServer
    let request: CompletionRequest
    let envelope: ResponseEnvelope
    private var plainEvents = SplicedTokenEvents(key: "text")

    init(server: APIServer, request: CompletionRequest) {
        self.server = server
        self.request = request
        envelope = ResponseEnvelope(idPrefix: "cmpl-", chunkObject: "text_completion", model: server.modelName,
                                    includeUsage: request.fields.includeUsage)
    }

    private var fields: GenerationFields { request.fields }

    func chunk(_ choices: [JSON]) -> JSON { envelope.chunk(choices) }

    func choiceJSON(_ i: Int, text: String, logprobs: JSON, finish: String?, extra: JSON?) -> JSON {
        var f: [(String, JSON)] = [("index", .int(i)), ("text", .string(text)), ("logprobs", logprobs),
                                   ("finish_reason", finish.map(JSON.string) ?? .null)]
        if let extra { f.append(("dlcm", extra)) }
        return .object(f)
    }

    func promptEvents(choice i: Int, result p: PromptResult) -> [JSON] {
        guard request.echo else { return [] }
        let prompt = request.prompts[i / fields.n]
        let lp = request.logprobs != nil ? logprobsJSON(prompt.tokens, Array(p.logprobs.dropFirst())) : JSON.null
        return [chunk([choiceJSON(i, text: prompt.text, logprobs: lp, finish: nil, extra: nil)])]
    }

    func tokenEvent(choice i: Int, token t: EmittedToken) -> [UInt8]? {
        if request.logprobs == nil && !fields.concepts {
            // The common chunk: only its text changes from token to token.
            guard !t.token.text.isEmpty else { return nil }
            return plainEvents.event(choice: i, text: t.token.text) {
                sseEvent(chunk([choiceJSON(i, text: "", logprobs: .null, finish: nil, extra: nil)]))
            }
        }
        let lp = request.logprobs != nil ? logprobsJSON([t.token.token], [t.token.logprobs]) : JSON.null
        let extra: JSON? = fields.concepts ? .object([("concept_starts", .array([t.startedConcept.map(JSON.bool) ?? .null]))]) : nil
        return sseEvent(chunk([choiceJSON(i, text: t.token.text, logprobs: lp, finish: nil, extra: extra)]))
    }

    func finishEvent(choice i: Int, text: String, reason: FinishReason, stats: GenerationStats) -> JSON {
        let extra: JSON? = fields.concepts ? .object([
            ("prompt_concepts", .int(stats.promptConcepts)), ("completion_concepts", .int(stats.completionConcepts)),
        ]) : nil
        return chunk([choiceJSON(i, text: text, logprobs: request.logprobs != nil ? logprobsJSON([], []) : .null,
                                 finish: reason.rawValue, extra: extra)])
    }

    func usageEvent(_ usage: JSON) -> JSON { envelope.usageChunk(usage) }

    /// The non-streaming answer.
    func response(_ choices: [GenerationJob.Choice], usage: JSON) -> JSON {
        let items: [JSON] = choices.enumerated().map { i, c in
            let prompt = request.prompts[i / fields.n]
            var text = c.text, lpTokens = c.tokens, lps = c.logprobs
            if request.echo {
                text = prompt.text + text
                lpTokens = prompt.tokens + lpTokens
                lps = Array((c.prompt?.logprobs ?? []).dropFirst()) + lps
                if lps.count < lpTokens.count { lps = Array(repeating: nil, count: lpTokens.count - lps.count) + lps }
            }
            var extra: JSON?
            if fields.concepts {
                extra = .object([
                    ("prompt_concepts", .int(c.stats?.promptConcepts ?? 0)),
                    ("completion_concepts", .int(c.stats?.completionConcepts ?? 0)),
                    ("concept_starts", .array(c.conceptStarts.map { $0.map(JSON.bool) ?? .null })),
                ])
            }
            return choiceJSON(i, text: text, logprobs: request.logprobs != nil ? logprobsJSON(lpTokens, lps) : .null,
                              finish: c.finish?.rawValue, extra: extra)
        }
        return envelope.response(items, object: "text_completion", usage: usage)
    }

    /// OpenAI's legacy completions logprobs object for these tokens, written straight to JSON
    /// text: with echo, n and 20 top entries it is most of a multi-megabyte answer, and as a tree
    /// of values it took several times its text's size.
    func logprobsJSON(_ tokens: [Int32], _ lps: [TokenLogprobs?]) -> JSON {
        let lp = { (k: Int) -> TokenLogprobs? in k < lps.count ? lps[k] : nil }
        let topCount = lps.lazy.compactMap { $0?.top.count }.first ?? 0
        var out: [UInt8] = []
        out.reserveCapacity(64 + tokens.count * (40 + 28 * topCount))
        func comma(_ k: Int) { if k > 0 { out.append(UInt8(ascii: ",")) } }
        out += #"{"tokens":["#.utf8
        for (k, t) in tokens.enumerated() {
            comma(k)
            JSON.writeString(server.tokenString(t), to: &out)
        }
        out += #"],"token_logprobs":["#.utf8
        for k in tokens.indices {
            comma(k)
            (lp(k).map { JSON.number($0.logprob) } ?? .null).write(to: &out)
        }
        out += #"],"top_logprobs":["#.utf8
        for k in tokens.indices {
            comma(k)
            guard let l = lp(k) else { out += "null".utf8; continue }
            out.append(UInt8(ascii: "{"))
            for (j, e) in l.top.enumerated() {
                comma(j)
                JSON.writeString(server.tokenString(e.token), to: &out)
                out.append(UInt8(ascii: ":"))
                JSON.number(e.logprob).write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        // UTF-8 byte offsets: a token may hold part of a character, so character offsets would
        // not be well defined.
        out += #"],"text_offset":["#.utf8
        var offset = 0
        var bytes: [UInt8] = []
        for (k, t) in tokens.enumerated() {
            comma(k)
            out += String(offset).utf8
            bytes.removeAll(keepingCapacity: true)
            server.tokenizer.appendBytes(of: t, skipSpecial: false, to: &bytes)
            offset += bytes.count
        }
        out += "]}".utf8
        return .raw(out)
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
