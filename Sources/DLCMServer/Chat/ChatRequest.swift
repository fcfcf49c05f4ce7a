import DLCMEngine
import DLCMRuntime
import StrictJSON

/// A POST /v1/chat/completions body, parsed and checked: the conversation, rendered by the
/// checkpoint's chat template into one prompt, and the generation fields /v1/completions shares.
struct ChatRequest {
    /// The messages as the template reads them (JSON objects: role, content as one string, and
    /// tool_calls / tool_call_id / name where given).
    var messages: [JSON] = []
    /// The rendered conversation and its tokens (special-token spellings read as special tokens,
    /// as the template writes them), without the BOS the model reads first.
    var prompt = ""
    var promptTokens: [Int32] = []
    var fields: GenerationFields
    /// `tools` and how they may be called (nil without tools).
    var tools: ChatTools?
    /// Whether answers are split into content and tool calls.
    var callsTools: Bool { tools.map { $0.choice != .none } ?? false }
    /// Top entries per token when `logprobs` is true (0-20); nil without logprobs.
    var topLogprobs: Int?

    /// Fields OpenAI's API defines that this server does not implement: refused by name rather
    /// than ignored, so a client never reads an answer that silently skipped what it asked for.
    static let unsupported: [(key: String, reason: String)] = [
        ("functions", "the deprecated function-call fields are not supported; use 'tools' and 'tool_choice'"),
        ("function_call", "the deprecated function-call fields are not supported; use 'tools' and 'tool_choice'"),
        ("audio", "audio output is not supported by this server"),
        ("prediction", "predicted outputs are not supported by this server"),
        ("web_search_options", "web search is not supported by this server"),
        ("reasoning_effort", "this model does not reason before answering"),
        // Completions-only fields: a chat client sending them has mistaken the endpoint.
        ("echo", "is a /v1/completions field"), ("prompt", "is a /v1/completions field"),
        ("suffix", "is a /v1/completions field"), ("best_of", "is a /v1/completions field"),
    ]

    init(_ body: RequestBody, server: APIServer) throws {
        try server.checkModel(body)
        for (key, reason) in Self.unsupported where body.value(key) != nil {
            // An empty tool list asks for nothing.
            if case .array(let items)? = body.value(key), items.isEmpty { continue }
            throw APIError.badRequest("'\(key)': \(reason)", param: key, code: "unsupported_parameter")
        }
        if case .array(let modalities)? = body.value("modalities"), !modalities.allSatisfy({ $0 == .string("text") }) {
            throw APIError.badRequest("'modalities': this server only answers with text", param: "modalities", code: "unsupported_parameter")
        }
        messages = try Self.messages(body.value("messages"))

        tools = try ChatTools(body)
        fields = try GenerationFields(body, server: server, prompts: 1)
        if let tools, tools.choice != .none {
            guard fields.format == .text else {
                throw APIError.badRequest("a JSON 'response_format' together with 'tools' is not supported by this server; send one or the other, or tool_choice 'none'",
                                          param: "response_format", code: "unsupported_parameter")
            }
            try fields.constrain(tools.constraint(server.engine.bundle.outputConstraints), by: "tools")
        }
        let template = server.engine.bundle.chatFormat
        do {
            // With tool_choice 'none' the model is not told of the tools at all.
            prompt = try template.render(messages: messages, tools: tools.flatMap { $0.choice == .none ? nil : $0.tools })
        } catch {
            throw APIError.badRequest("the chat template could not render these messages: \(error)",
                                      param: "messages", code: "invalid_messages")
        }
        promptTokens = server.tokenizer.encode(prompt, parseSpecial: true, addSpecialTokens: false)
        for stop in template.stops where !fields.generation.stop.contains(stop) { fields.generation.stop.append(stop) }

        // OpenAI's name first; max_tokens is its deprecated spelling. Without either, the answer
        // may run to the end of the context (or the server's limit).
        let key = body.value("max_completion_tokens") != nil ? "max_completion_tokens" : "max_tokens"
        let room = server.modelConfig.maxSeqLen - 1 - promptTokens.count
        let fallback = max(0, min(server.configuration.maxTokensLimit, room))
        fields.generation.maxTokens = try GenerationFields.maxTokens(body, key: key, fallback: fallback, server: server)
        try GenerationFields.checkContext(promptTokens: promptTokens.count, maxTokens: fields.generation.maxTokens,
                                          param: key, server: server)
        guard fields.generation.maxTokens > 0 || body.value(key) != nil else {
            throw APIError.badRequest(
                "this model's maximum context length is \(server.modelConfig.maxSeqLen) tokens; the conversation takes \(promptTokens.count) (plus 1 BOS): shorten it",
                param: "messages", code: "context_length_exceeded")
        }

        let wantLogprobs = try body.bool("logprobs") ?? false
        let top = try body.int("top_logprobs")
        if let top {
            guard top >= 0, top <= 20 else { throw APIError.invalid("top_logprobs", "must be between 0 and 20") }
            guard wantLogprobs else { throw APIError.invalid("top_logprobs", "needs 'logprobs': true") }
        }
        if wantLogprobs {
            topLogprobs = top ?? 0
            fields.generation.logprobs = top ?? 0
        }
    }

    /// `messages`: a non-empty array of {role, content, ...}. Content is a string, null (an
    /// assistant turn that only calls tools) or an array of text parts, joined by newlines.
    static func messages(_ value: JSON?) throws -> [JSON] {
        guard case .array(let items)? = value else {
            throw APIError.invalid("messages", value == nil ? "is required" : "must be an array of messages")
        }
        guard !items.isEmpty else { throw APIError.invalid("messages", "must not be empty") }
        return try items.enumerated().map { k, item in
            let at = "messages[\(k)]"
            guard case .object = item else { throw APIError.invalid(at, "must be an object") }
            let m = RequestBody(json: item, path: at + ".")
            guard let role = try m.string("role") else { throw APIError.invalid(at + ".role", "is required") }
            guard ["system", "developer", "user", "assistant", "tool"].contains(role) else {
                throw APIError.invalid(at + ".role", "must be one of system, developer, user, assistant, tool")
            }
            var out: [(String, JSON)] = [("role", .string(role == "developer" ? "system" : role))]
            switch m.value("content") {
            case nil:
                guard role == "assistant" else { throw APIError.invalid(at + ".content", "is required") }
                out.append(("content", .null))
            case .string(let s)?:
                out.append(("content", .string(s)))
            case .array(let parts)?:
                let texts: [String] = try parts.enumerated().map { j, part in
                    let p = RequestBody(json: part, path: "\(at).content[\(j)].")
                    guard case .object = part, try p.string("type") == "text", let text = try p.string("text") else {
                        throw APIError.badRequest("'\(at).content[\(j)]': only text parts ({\"type\": \"text\", \"text\": ...}) are supported",
                                                  param: "\(at).content", code: "unsupported_content")
                    }
                    return text
                }
                out.append(("content", .string(texts.joined(separator: "\n"))))
            default:
                throw APIError.invalid(at + ".content", "must be a string or an array of text parts")
            }
            if let name = try m.string("name") { out.append(("name", .string(name))) }
            if role == "tool" {
                guard let id = try m.string("tool_call_id") else { throw APIError.invalid(at + ".tool_call_id", "is required for a tool message") }
                out.append(("tool_call_id", .string(id)))
            }
            if role == "assistant", let calls = m.value("tool_calls") {
                out.append(("tool_calls", try toolCalls(calls, at: at + ".tool_calls")))
            }
            return .object(out)
        }
    }

    /// An assistant turn's earlier tool calls, as templates read them: `arguments` sent as a JSON
    /// string (OpenAI's shape) becomes the object it spells.
    private static func toolCalls(_ value: JSON, at: String) throws -> JSON {
        guard case .array(let calls) = value else { throw APIError.invalid(at, "must be an array") }
        return .array(try calls.enumerated().map { k, call in
            let c = RequestBody(json: call, path: "\(at)[\(k)].")
            guard case .object = call, let function = try c.object("function"), let name = try function.string("name") else {
                throw APIError.invalid("\(at)[\(k)]", "must be {\"id\", \"type\": \"function\", \"function\": {\"name\", \"arguments\"}}")
            }
            var arguments = function.value("arguments") ?? .object([])
            if case .string(let text) = arguments {
                guard let parsed = try? JSON.parse(Array(text.utf8)) else {
                    throw APIError.invalid("\(at)[\(k)].function.arguments", "must be a JSON object or a string holding one")
                }
                arguments = parsed
            }
            var f: [(String, JSON)] = []
            if let id = try c.string("id") { f.append(("id", .string(id))) }
            f.append(("type", .string("function")))
            f.append(("function", .object([("name", .string(name)), ("arguments", arguments)])))
            return .object(f)
        })
    }
}
