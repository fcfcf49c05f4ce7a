import DLCMEngine
import DLCMRuntime
import StrictJSON

/// The OpenAI completion object, its stream chunks and the legacy logprobs object.
extension CompletionJob {
    var usage: JSON {
        let prompt = request.prompts.reduce(0) { $0 + $1.tokens.count }
        let completion = choices.reduce(0) { $0 + ($1.stats?.completionTokens ?? $1.tokens.count) }
        return .object([("prompt_tokens", .int(prompt)), ("completion_tokens", .int(completion)), ("total_tokens", .int(prompt + completion))])
    }

    func chunkFields(_ choices: [JSON]) -> [(String, JSON)] {
        [("id", .string(id)), ("object", .string("text_completion")), ("created", .int(created)),
         ("model", .string(server.modelName)), ("choices", .array(choices))]
    }

    func chunk(_ choices: [JSON]) -> JSON {
        var c = chunkFields(choices)
        if request.includeUsage { c.append(("usage", .null)) }
        return .object(c)
    }

    func choiceJSON(_ i: Int, text: String, logprobs: JSON, finish: String?, extra: JSON?) -> JSON {
        var f: [(String, JSON)] = [("index", .int(i)), ("text", .string(text)), ("logprobs", logprobs),
                                   ("finish_reason", finish.map(JSON.string) ?? .null)]
        if let extra { f.append(("dlcm", extra)) }
        return .object(f)
    }

    /// The non-streaming answer.
    var response: JSON {
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
