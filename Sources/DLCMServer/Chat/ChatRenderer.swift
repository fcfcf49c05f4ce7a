import DLCMEngine
import DLCMRuntime
import StrictJSON

/// The chat shape: `chat.completion` objects, `chat.completion.chunk` deltas (the role first,
/// then content), and chat logprobs (`{"content": [{token, logprob, bytes, top_logprobs}]}`).
final class ChatRenderer: ResponseRenderer {
    let server: APIServer
    let request: ChatRequest
    let envelope: ResponseEnvelope
    private var plainEvents = SplicedTokenEvents(key: "content")
    /// Per choice, the answer split into content and tool calls as it streams (with tools only).
    private var toolText: [Int: ToolCallText] = [:]

    init(server: APIServer, request: ChatRequest) {
        self.server = server
        self.request = request
        envelope = ResponseEnvelope(idPrefix: "chatcmpl-", chunkObject: "chat.completion.chunk", model: server.modelName,
                                    includeUsage: request.fields.includeUsage)
    }

    private var fields: GenerationFields { request.fields }

    private func chunk(_ choices: [JSON]) -> JSON { envelope.chunk(choices) }

    private func deltaChoice(_ i: Int, delta: [(String, JSON)], logprobs: JSON, finish: String?, extra: JSON?) -> JSON {
        var f: [(String, JSON)] = [("index", .int(i)), ("delta", .object(delta)), ("logprobs", logprobs),
                                   ("finish_reason", finish.map(JSON.string) ?? .null)]
        if let extra { f.append(("dlcm", extra)) }
        return .object(f)
    }

    /// The role chunk, as soon as the conversation has been read.
    func promptEvents(choice i: Int, result: PromptResult) -> [JSON] {
        [chunk([deltaChoice(i, delta: [("role", .string("assistant")), ("content", .string(""))], logprobs: .null, finish: nil, extra: nil)])]
    }

    func tokenEvent(choice i: Int, token t: EmittedToken) -> [UInt8]? {
        if request.callsTools { return toolTokenEvent(choice: i, token: t) }
        if request.topLogprobs == nil && !fields.concepts {
            guard !t.token.text.isEmpty else { return nil }
            return plainEvents.event(choice: i, text: t.token.text) {
                sseEvent(chunk([deltaChoice(i, delta: [("content", .string(""))], logprobs: .null, finish: nil, extra: nil)]))
            }
        }
        let lp: JSON = request.topLogprobs != nil ? .object([("content", .array(t.token.logprobs.map { [entry($0)] } ?? [])),
                                                             ("refusal", .null)]) : .null
        let extra: JSON? = fields.concepts ? .object([("concept_starts", .array([t.startedConcept.map(JSON.bool) ?? .null]))]) : nil
        return sseEvent(chunk([deltaChoice(i, delta: [("content", .string(t.token.text))], logprobs: lp, finish: nil, extra: extra)]))
    }

    func finishEvent(choice i: Int, text: String, reason: FinishReason, stats: GenerationStats) -> JSON {
        let extra: JSON? = fields.concepts ? .object([
            ("prompt_concepts", .int(stats.promptConcepts)), ("completion_concepts", .int(stats.completionConcepts)),
        ]) : nil
        guard request.callsTools else {
            return chunk([deltaChoice(i, delta: text.isEmpty ? [] : [("content", .string(text))], logprobs: .null,
                                      finish: reason.rawValue, extra: extra)])
        }
        var split = toolText[i] ?? ToolCallText()
        let (content, calls) = split.feed(text)
        let rest = content + split.finish()
        toolText[i] = split
        var delta: [(String, JSON)] = rest.isEmpty ? [] : [("content", .string(rest))]
        if !calls.isEmpty { delta.append(callsDelta(calls, after: split)) }
        return chunk([deltaChoice(i, delta: delta, logprobs: .null, finish: finishReason(reason, calls: split.calls.count), extra: extra)])
    }

    /// A streamed token with tools: its content, or a call once the call's closing tag is read.
    private func toolTokenEvent(choice i: Int, token t: EmittedToken) -> [UInt8]? {
        var split = toolText[i] ?? ToolCallText()
        let (content, calls) = split.feed(t.token.text)
        toolText[i] = split
        let perToken = request.topLogprobs != nil || fields.concepts
        guard !content.isEmpty || !calls.isEmpty || perToken else { return nil }
        var delta: [(String, JSON)] = [("content", .string(content))]
        if !calls.isEmpty {
            delta = content.isEmpty ? [] : delta
            delta.append(callsDelta(calls, after: split))
        }
        let lp: JSON = request.topLogprobs != nil ? .object([("content", .array(t.token.logprobs.map { [entry($0)] } ?? [])),
                                                             ("refusal", .null)]) : .null
        let extra: JSON? = fields.concepts ? .object([("concept_starts", .array([t.startedConcept.map(JSON.bool) ?? .null]))]) : nil
        return sseEvent(chunk([deltaChoice(i, delta: delta, logprobs: lp, finish: nil, extra: extra)]))
    }

    /// `calls`, the last calls `split` completed, as a delta's `tool_calls`, numbered among all of the answer's calls.
    private func callsDelta(_ calls: [ToolCall], after split: ToolCallText) -> (String, JSON) {
        let first = split.calls.count - calls.count
        return ("tool_calls", .array(calls.enumerated().map { toolCall($1, index: first + $0) }))
    }

    /// A call as a message or stream delta lists it.
    private func toolCall(_ call: ToolCall, index: Int?) -> JSON {
        var f: [(String, JSON)] = []
        if let index { f.append(("index", .int(index))) }
        f += [("id", .string(call.id)), ("type", .string("function")),
              ("function", .object([("name", .string(call.name)), ("arguments", .string(call.arguments))]))]
        return .object(f)
    }

    /// `tool_calls` when the answer made calls and ended on its own; otherwise why it ended.
    private func finishReason(_ reason: FinishReason, calls: Int) -> String {
        calls > 0 && reason == .stop ? "tool_calls" : reason.rawValue
    }

    func usageEvent(_ usage: JSON) -> JSON { envelope.usageChunk(usage) }

    func response(_ choices: [GenerationJob.Choice], usage: JSON) -> JSON {
        let items: [JSON] = choices.enumerated().map { i, c in
            var message: [(String, JSON)] = [("role", .string("assistant"))]
            var finish = c.finish?.rawValue
            if request.callsTools {
                let (content, calls) = ToolCallText.split(c.text)
                message.append(("content", content.map(JSON.string) ?? .null))
                message.append(("refusal", .null))
                if !calls.isEmpty { message.append(("tool_calls", .array(calls.map { toolCall($0, index: nil) }))) }
                finish = c.finish.map { finishReason($0, calls: calls.count) }
            } else {
                message += [("content", .string(c.text)), ("refusal", .null)]
            }
            var f: [(String, JSON)] = [
                ("index", .int(i)),
                ("message", .object(message)),
                ("logprobs", request.topLogprobs != nil ? .object([("content", .array(c.logprobs.compactMap { $0.map(entry) })),
                                                                  ("refusal", .null)]) : .null),
                ("finish_reason", finish.map(JSON.string) ?? .null),
            ]
            if fields.concepts {
                f.append(("dlcm", .object([
                    ("prompt_concepts", .int(c.stats?.promptConcepts ?? 0)),
                    ("completion_concepts", .int(c.stats?.completionConcepts ?? 0)),
                    ("concept_starts", .array(c.conceptStarts.map { $0.map(JSON.bool) ?? .null })),
                ])))
            }
            return .object(f)
        }
        return envelope.response(items, object: "chat.completion", usage: usage)
    }

    /// One token's chat logprobs entry: its text (invalid UTF-8 replaced), its exact bytes, and
    /// the top alternatives in the same form.
    private func entry(_ lp: TokenLogprobs) -> JSON {
        var f = tokenFields(lp.token, logprob: lp.logprob)
        f.append(("top_logprobs", .array(lp.top.map { .object(tokenFields($0.token, logprob: $0.logprob)) })))
        return .object(f)
    }

    private func tokenFields(_ token: Int32, logprob: Float) -> [(String, JSON)] {
        var bytes: [UInt8] = []
        server.tokenizer.appendBytes(of: token, skipSpecial: false, to: &bytes)
        return [("token", .string(String(decoding: bytes, as: UTF8.self))), ("logprob", .number(logprob)),
                ("bytes", .array(bytes.map { .int(Int($0)) }))]
    }
}
