import DLCMEngine
import DLCMRuntime
import Foundation
import StrictJSON
import Testing
@testable import DLCMServer

/// /v1/chat/completions on the fixture, which has no chat template of its own: the built-in one.
@Suite struct ChatTests {
    static let conversation = #"[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello there"}]"#
    /// What the built-in template makes of `conversation`.
    static let rendered = "System: Be brief.\n\nUser: Hello there\n\nAssistant:"

    @Test func builtInTemplateRendersPlainTurns() throws {
        let format = sharedBundle.chatFormat
        #expect(format.origin == .builtIn)
        let messages = try JSON.parse(Array(Self.conversation.utf8))
        guard case .array(let items) = messages else { Issue.record("not an array"); return }
        #expect(try format.render(messages: items) == Self.rendered)
        #expect(format.stops == ["\nUser:"])
    }

    @Test func nonStreamingChatIsTheCompletionOfTheRenderedConversation() throws {
        let s = try TestServer()
        let r = try s.post("/v1/chat/completions", #"{"model":"tiny-served","messages":\#(Self.conversation),"max_completion_tokens":12,"seed":3,"ignore_eos":true}"#)
        #expect(r.status == 200, "\(r.text)")
        let j = r.json
        #expect(j["object"] as? String == "chat.completion")
        let id = try #require(j["id"] as? String)
        #expect(id.hasPrefix("chatcmpl-") && id.count == 41)
        let choice = try #require((j["choices"] as? [[String: Any]])?.first)
        let message = try #require(choice["message"] as? [String: Any])
        #expect(message["role"] as? String == "assistant")
        let content = try #require(message["content"] as? String)
        #expect(choice["logprobs"] is NSNull)
        let usage = try #require(j["usage"] as? [String: Any])
        let promptTokens = sharedBundle.tokenizer.encode(Self.rendered, parseSpecial: false).count
        #expect(usage["prompt_tokens"] as? Int == promptTokens)
        // The same prompt through /v1/completions, same seed, same stop strings: the same text.
        let completion = try s.completionText(#"{"prompt":\#(jsonString(Self.rendered)),"max_tokens":12,"seed":3,"ignore_eos":true,"stop":["\nUser:"]}"#)
        #expect(content == completion)
        if choice["finish_reason"] as? String == "length" { #expect(usage["completion_tokens"] as? Int == 12) }
    }

    @Test func streamedDeltasAddUpToTheAnswer() throws {
        let s = try TestServer()
        let body = #""messages":\#(Self.conversation),"max_tokens":20,"seed":11,"temperature":0.9,"ignore_eos":true"#
        let r = try s.post("/v1/chat/completions", "{\(body),\"stream\":true,\"stream_options\":{\"include_usage\":true}}")
        #expect(r.status == 200)
        #expect(r.headers["Content-Type"] == "text/event-stream")
        #expect(r.events.last == "[DONE]")
        let objects = r.eventObjects
        #expect(objects.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
        let first = try #require((objects.first?["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])
        #expect(first["role"] as? String == "assistant")
        let usage = try #require(objects.last?["usage"] as? [String: Any])
        #expect((objects.last?["choices"] as? [Any])?.isEmpty == true)
        let choices = objects.compactMap { ($0["choices"] as? [[String: Any]])?.first }
        let streamed = choices.compactMap { ($0["delta"] as? [String: Any])?["content"] as? String }.joined()
        #expect(choices.compactMap { $0["finish_reason"] as? String }.count == 1)
        let whole = try s.post("/v1/chat/completions", "{\(body)}")
        let message = ((whole.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])
        #expect(streamed == message?["content"] as? String)
        #expect(usage["completion_tokens"] as? Int == (whole.json["usage"] as? [String: Any])?["completion_tokens"] as? Int)
        // Content chunks are spliced from pre-rendered bytes: each must be what the JSON writer
        // makes of the same object.
        for event in r.events.dropLast() {
            var bytes: [UInt8] = []
            try JSON.parse(Array(event.utf8)).write(to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == event)
        }
    }

    @Test func logprobsInTheChatShape() throws {
        let s = try TestServer()
        for stream in [false, true] {
            let r = try s.post("/v1/chat/completions", #"{"messages":\#(Self.conversation),"max_tokens":6,"seed":5,"ignore_eos":true,"logprobs":true,"top_logprobs":3,"stream":\#(stream)}"#)
            #expect(r.status == 200, "\(r.text)")
            var entries: [[String: Any]] = []
            if stream {
                for o in r.eventObjects {
                    guard let c = (o["choices"] as? [[String: Any]])?.first, let lp = c["logprobs"] as? [String: Any] else { continue }
                    entries += (lp["content"] as? [[String: Any]]) ?? []
                }
            } else {
                let c = try #require((r.json["choices"] as? [[String: Any]])?.first)
                entries = try #require((c["logprobs"] as? [String: Any])?["content"] as? [[String: Any]])
            }
            #expect(entries.count == 6)
            for e in entries {
                let logprob = try #require(e["logprob"] as? Double)
                #expect(logprob <= 0)
                let bytes = try #require(e["bytes"] as? [Int])
                #expect(!bytes.isEmpty && bytes.allSatisfy { (0...255).contains($0) })
                #expect(e["token"] is String)
                let top = try #require(e["top_logprobs"] as? [[String: Any]])
                #expect(top.count == 3)
                #expect(top.allSatisfy { $0["bytes"] is [Int] && $0["logprob"] is Double })
            }
        }
    }

    @Test func nChoicesAndTextParts() throws {
        let s = try TestServer()
        let r = try s.post("/v1/chat/completions", #"{"messages":[{"role":"developer","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Hello"},{"type":"text","text":"there"}]}],"n":2,"max_tokens":4,"seed":1,"ignore_eos":true}"#)
        #expect(r.status == 200, "\(r.text)")
        let choices = try #require(r.json["choices"] as? [[String: Any]])
        #expect(choices.map { $0["index"] as? Int } == [0, 1])
        // developer reads as system; text parts are joined by newlines.
        let tokens = sharedBundle.tokenizer.encode("System: Be brief.\n\nUser: Hello\nthere\n\nAssistant:", parseSpecial: false).count
        #expect((r.json["usage"] as? [String: Any])?["prompt_tokens"] as? Int == tokens)
    }

    @Test(arguments: [
        (#"{"max_tokens":4}"#, "messages", "invalid_parameter"),
        (#"{"messages":[]}"#, "messages", "invalid_parameter"),
        (#"{"messages":"hi"}"#, "messages", "invalid_parameter"),
        (#"{"messages":[{"role":"wizard","content":"x"}]}"#, "messages[0].role", "invalid_parameter"),
        (#"{"messages":[{"role":"user"}]}"#, "messages[0].content", "invalid_parameter"),
        (#"{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}"#, "messages[0].content", "unsupported_content"),
        (#"{"messages":[{"role":"tool","content":"42"}]}"#, "messages[0].tool_call_id", "invalid_parameter"),
        (#"{"messages":[{"role":"user","content":"x"}],"functions":[{"name":"f"}]}"#, "functions", "unsupported_parameter"),
        (#"{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"code","function":{"name":"f"}}]}"#, "tools[0]", "invalid_parameter"),
        (#"{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a b"}}]}"#, "tools[0].function.name", "invalid_parameter"),
        (#"{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"f"}}]}"#, "tools[1].function.name", "invalid_parameter"),
        (#"{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","patternProperties":{}}}}]}"#, "tools", "unsupported_schema"),
        (#"{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"g"}}}"#, "tool_choice", "invalid_parameter"),
        (#"{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"sometimes"}"#, "tool_choice", "invalid_parameter"),
        (#"{"messages":[{"role":"user","content":"x"}],"tool_choice":"required"}"#, "tool_choice", "invalid_parameter"),
        (#"{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"response_format":{"type":"json_object"}}"#, "response_format", "unsupported_parameter"),
        (#"{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"ignore_eos":true}"#, "ignore_eos", "invalid_parameter"),
        (#"{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"xml"}}"#, "response_format", "invalid_parameter"),
        (#"{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema"}}"#, "response_format.json_schema", "invalid_parameter"),
        (#"{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"schema":{}}}}"#, "response_format.json_schema.name", "invalid_parameter"),
        (#"{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"a","schema":{"type":"string","pattern":"^a+$"}}}}"#, "response_format", "unsupported_schema"),
        (#"{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"a","schema":{"type":"thing"}}}}"#, "response_format", "invalid_schema"),
        (#"{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"},"ignore_eos":true}"#, "ignore_eos", "invalid_parameter"),
        (#"{"messages":[{"role":"user","content":"x"}],"echo":true}"#, "echo", "unsupported_parameter"),
        (#"{"messages":[{"role":"user","content":"x"}],"top_logprobs":2}"#, "top_logprobs", "invalid_parameter"),
        (#"{"messages":[{"role":"user","content":"x"}],"logprobs":true,"top_logprobs":21}"#, "top_logprobs", "invalid_parameter"),
        (#"{"messages":[{"role":"user","content":"x"}],"max_completion_tokens":100000}"#, "max_completion_tokens", "invalid_parameter"),
        (#"{"messages":[{"role":"user","content":"x"}],"max_completion_tokens":510}"#, "prompt", "context_length_exceeded"),
        (#"{"messages":[{"role":"user","content":"x"}],"n":9}"#, "n", "invalid_parameter"),
    ])
    func badRequestsAreRefusedByName(body: String, param: String, code: String) throws {
        let s = try TestServer()
        let r = try s.post("/v1/chat/completions", body)
        #expect(r.status == 400, "\(body): \(r.status) \(r.text)")
        let error = try #require(r.json["error"] as? [String: Any])
        #expect(error["param"] as? String == param, "\(body): \(r.text)")
        #expect(error["code"] as? String == code, "\(body): \(r.text)")
        #expect(error["type"] as? String == "invalid_request_error")
    }

    @Test func emptyToolListAndTextFormatAreAccepted() throws {
        let s = try TestServer()
        let r = try s.post("/v1/chat/completions", #"{"messages":[{"role":"user","content":"x"}],"tools":[],"response_format":{"type":"text"},"max_tokens":2}"#)
        #expect(r.status == 200, "\(r.text)")
    }

    @Test func unknownModelIs404() throws {
        let s = try TestServer()
        let r = try s.post("/v1/chat/completions", #"{"model":"gpt-9","messages":[{"role":"user","content":"x"}]}"#)
        #expect(r.status == 404)
        #expect((r.json["error"] as? [String: Any])?["code"] as? String == "model_not_found")
    }
}

/// Checkpoints that bring their own template.
@Suite struct CheckpointChatTemplateTests {
    static let chatML = """
        {% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}
        """

    /// A copy of the fixture with `files` added.
    static func checkpoint(_ files: [String: String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chat-fixture-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: fixtureDirectory, to: dir)
        for (name, text) in files { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return dir
    }

    /// The built-in template writes an answer back as the model wrote it after `Assistant:` (its
    /// leading space included, no second one), so the next turn's prompt repeats the answer's
    /// tokens and the prefix cache resumes after them; other text gets the space after the colon.
    @Test func builtInTemplateWritesAnswersBackAsGenerated() throws {
        func message(_ role: String, _ content: String) -> JSON { .object([("role", .string(role)), ("content", .string(content))]) }
        let turn = try sharedBundle.chatFormat.render(messages: [message("user", "Hello there")])
        #expect(turn == "User: Hello there\n\nAssistant:")
        let next = try sharedBundle.chatFormat.render(messages: [message("user", "Hello there"), message("assistant", " Hi, friend."),
                                                                 message("user", "Again")])
        #expect(next == turn + " Hi, friend.\n\nUser: Again\n\nAssistant:")
        #expect(try sharedBundle.chatFormat.render(messages: [message("assistant", "No space")]).hasPrefix("Assistant: No space\n"))
    }

    @Test func templateFromTokenizerConfig() throws {
        let config: JSON = .object([("chat_template", .string(Self.chatML)), ("eos_token", .string("<|endoftext|>"))])
        var text: [UInt8] = []
        config.write(to: &text)
        let dir = try Self.checkpoint(["tokenizer_config.json": String(decoding: text, as: UTF8.self)])
        defer { try? FileManager.default.removeItem(at: dir) }
        let bundle = try ModelBundle(directory: dir, threads: 1)
        #expect(bundle.chatFormat.origin == .checkpoint)
        #expect(bundle.chatFormat.stops.isEmpty)
        let rendered = try bundle.chatFormat.render(messages: [.object([("role", .string("user")), ("content", .string("Hi"))])])
        #expect(rendered == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    }

    @Test func chatTemplateFileWinsAndNamedTemplatesAreRead() throws {
        let named = #"{"chat_template":[{"name":"tool_use","template":"T"},{"name":"default","template":"D{{ messages[0].content }}"}]}"#
        var dir = try Self.checkpoint(["tokenizer_config.json": named])
        var bundle = try ModelBundle(directory: dir, threads: 1)
        #expect(try bundle.chatFormat.render(messages: [.object([("role", .string("user")), ("content", .string("x"))])]) == "Dx")
        try? FileManager.default.removeItem(at: dir)
        dir = try Self.checkpoint(["tokenizer_config.json": named, "chat_template.jinja": "J{{ messages | length }}"])
        defer { try? FileManager.default.removeItem(at: dir) }
        bundle = try ModelBundle(directory: dir, threads: 1)
        #expect(try bundle.chatFormat.render(messages: []) == "J0")
    }

    @Test func aBrokenTemplateFailsTheLoad() throws {
        let dir = try Self.checkpoint(["chat_template.jinja": "{% for m in messages %}never closed"])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: ModelError.self) { try ModelBundle(directory: dir, threads: 1) }
    }

    @Test func anUnreadableTemplateFailsTheLoadRatherThanFallingBack() throws {
        let dir = try Self.checkpoint([:])
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data([0xFF, 0xFE, 0x7B]).write(to: dir.appendingPathComponent("chat_template.jinja"))
        #expect(throws: ModelError.self) { try ModelBundle(directory: dir, threads: 1) }
    }

    @Test func aTemplateThatRaisesIsA400() throws {
        let template = "{% if messages[0]['role'] != 'user' %}{{ raise_exception('Conversations must start with a user message') }}{% endif %}{{ messages[0]['content'] }}"
        let dir = try Self.checkpoint(["chat_template.jinja": template])
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = try TestServer(directory: dir)
        let bad = try s.post("/v1/chat/completions", #"{"messages":[{"role":"assistant","content":"x"}],"max_tokens":1}"#)
        #expect(bad.status == 400)
        let error = try #require(bad.json["error"] as? [String: Any])
        #expect((error["message"] as? String)?.contains("Conversations must start with a user message") == true)
        #expect(error["code"] as? String == "invalid_messages")
        let good = try s.post("/v1/chat/completions", #"{"messages":[{"role":"user","content":"x"}],"max_tokens":1}"#)
        #expect(good.status == 200)
        let models = try s.call("GET", "/v1/models")
        #expect(((models.json["data"] as? [[String: Any]])?.first)?["chat_template"] as? String == "checkpoint")
    }
}
