import DLCMEngine
import Foundation
import StrictJSON
import Testing
@testable import DLCMServer

/// Structured outputs and tool calls over real sockets, on the fixture: a random tiny model, so
/// whatever it writes is valid only because sampling is constrained.
@Suite struct ConstrainedOutputTests {
    static let user = #"[{"role":"user","content":"Describe a person."}]"#
    static let person = #"{"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer","minimum":0,"maximum":130},"tags":{"type":"array","items":{"enum":["a","b","c"]},"maxItems":3},"spouse":{"anyOf":[{"type":"null"},{"type":"string","maxLength":8}]}},"required":["name","age","tags","spouse"],"additionalProperties":false}"#

    /// The keys and types `person` asks for (a check written for this schema, independent of the compiler).
    static func isPerson(_ text: String) -> Bool {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return false }
        guard Set(object.keys) == ["name", "age", "tags", "spouse"] else { return false }
        guard let name = object["name"] as? String, name.unicodeScalars.count <= 12 else { return false }
        guard let age = object["age"] as? Int, (0...130).contains(age), !(object["age"] is Bool) else { return false }
        guard let tags = object["tags"] as? [String], tags.count <= 3, tags.allSatisfy(["a", "b", "c"].contains) else { return false }
        if let spouse = object["spouse"] as? String { return spouse.unicodeScalars.count <= 8 }
        return object["spouse"] is NSNull
    }

    static func format(_ schema: String) -> String {
        #""response_format":{"type":"json_schema","json_schema":{"name":"person","schema":\#(schema),"strict":true}}"#
    }

    @Test func everyChatAnswerFollowsTheSchema() throws {
        let s = try TestServer()
        for seed in 0..<12 {
            let r = try s.post("/v1/chat/completions", #"{"messages":\#(Self.user),"max_tokens":120,"seed":\#(seed),"temperature":1.2,\#(Self.format(Self.person))}"#)
            #expect(r.status == 200, "\(r.text)")
            let choice = try #require((r.json["choices"] as? [[String: Any]])?.first)
            let content = try #require((choice["message"] as? [String: Any])?["content"] as? String)
            #expect(Self.isPerson(content), "seed \(seed): \(content)")
            #expect(choice["finish_reason"] as? String == "stop", "seed \(seed): \(content)")
        }
    }

    /// n choices share the compiled grammar, each with its own place in it, streamed or not.
    @Test func nChoicesEachFollowTheSchema() throws {
        let s = try TestServer()
        for stream in [false, true] {
            let r = try s.post("/v1/chat/completions", #"{"messages":\#(Self.user),"n":3,"max_tokens":120,"seed":5,"temperature":1.1,"stream":\#(stream),\#(Self.format(Self.person))}"#)
            #expect(r.status == 200, "\(r.text)")
            var texts = ["", "", ""]
            if stream {
                for chunk in r.eventObjects {
                    for c in chunk["choices"] as? [[String: Any]] ?? [] {
                        if let i = c["index"] as? Int, let t = (c["delta"] as? [String: Any])?["content"] as? String { texts[i] += t }
                    }
                }
            } else {
                for c in r.json["choices"] as? [[String: Any]] ?? [] {
                    texts[c["index"] as! Int] = ((c["message"] as? [String: Any])?["content"] as? String) ?? ""
                }
            }
            #expect(texts.allSatisfy(Self.isPerson), "\(texts)")
        }
    }

    /// A budget just large enough: the document still closes inside it.
    @Test func aTightTokenBudgetStillClosesTheDocument() throws {
        let s = try TestServer()
        let schema = #"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"array","items":{"type":"integer"}}},"required":["a","b"],"additionalProperties":false}"#
        // {"a":"","b":[]} is 15 bytes; the fixture's vocabulary has a token for every byte.
        for seed in 0..<6 {
            let r = try s.post("/v1/completions", #"{"prompt":"x","max_tokens":16,"seed":\#(seed),"temperature":1.5,\#(Self.format(schema))}"#)
            #expect(r.status == 200, "\(r.text)")
            let choice = try #require((r.json["choices"] as? [[String: Any]])?.first)
            let text = try #require(choice["text"] as? String)
            let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            #expect(object?["a"] is String && object?["b"] is [Any], "seed \(seed): \(text)")
            #expect(choice["finish_reason"] as? String == "stop")
            #expect(((r.json["usage"] as? [String: Any])?["completion_tokens"] as? Int ?? 99) <= 16)
        }
    }

    @Test func jsonObjectModeOnCompletionsAndStreamedChat() throws {
        let s = try TestServer()
        let r = try s.post("/v1/completions", #"{"prompt":"data:","max_tokens":60,"seed":4,"response_format":{"type":"json_object"}}"#)
        #expect(r.status == 200, "\(r.text)")
        let text = try #require((r.json["choices"] as? [[String: Any]])?.first?["text"] as? String)
        if (r.json["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String == "stop" {
            #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8))) is [String: Any], "\(text)")
        } else {
            #expect(text.hasPrefix("{"), "\(text)")
        }
        let stream = try s.post("/v1/chat/completions", #"{"messages":\#(Self.user),"max_tokens":120,"seed":9,"stream":true,\#(Self.format(Self.person))}"#)
        let deltas = stream.eventObjects.compactMap { ($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any] }
        let streamed = deltas.compactMap { $0["content"] as? String }.joined()
        #expect(Self.isPerson(streamed), "\(streamed)")
    }

    @Test func aRepeatedSchemaIsCompiledOnce() throws {
        let s = try TestServer()
        let constraints = s.api.engine.bundle.outputConstraints
        let before = constraints.compiledCount
        let schema = #"{"type":"object","properties":{"zz\#(UInt32.random(in: 0...UInt32.max))":{"type":"boolean"}},"required":[],"additionalProperties":false}"#
        for _ in 0..<3 {
            let r = try s.post("/v1/completions", #"{"prompt":"x","max_tokens":20,\#(Self.format(schema))}"#)
            #expect(r.status == 200, "\(r.text)")
        }
        #expect(constraints.compiledCount <= before + 1)
        let stats = constraints.statistics
        #expect(stats.maskHits > 0 && stats.maskMisses > 0)
        let metrics = try s.call("GET", "/metrics").text
        for name in ["dlcm_structured_output_grammars", "dlcm_structured_output_mask_cache_hits_total",
                     "dlcm_structured_output_mask_cache_misses_total"] {
            #expect(metrics.contains("\n\(name) "), "\(name)")
        }
    }

    // Short names: the fixture's vocabulary is mostly single bytes, and the tools are part of the prompt.
    static let weather = #"{"type":"function","function":{"name":"w","parameters":{"properties":{"c":{"type":"string","maxLength":6},"u":{"enum":["c","f"]}},"required":["c","u"]}}}"#
    static let time = #"{"type":"function","function":{"name":"t","parameters":{"properties":{"z":{"type":"integer","minimum":-9,"maximum":9}},"required":["z"]}}}"#

    static func checkCall(_ call: [String: Any]) -> Bool {
        guard let id = call["id"] as? String, id.hasPrefix("call_"), call["type"] as? String == "function",
              let function = call["function"] as? [String: Any], let name = function["name"] as? String,
              let arguments = function["arguments"] as? String,
              let args = try? JSONSerialization.jsonObject(with: Data(arguments.utf8)) as? [String: Any] else { return false }
        switch name {
        case "w":
            guard let city = args["c"] as? String, city.unicodeScalars.count <= 6, let unit = args["u"] as? String else { return false }
            return ["c", "f"].contains(unit) && args.count == 2
        case "t":
            guard let zone = args["z"] as? Int else { return false }
            return (-9...9).contains(zone) && args.count == 1
        default: return false
        }
    }

    @Test func requiredAndNamedToolChoicesAlwaysCall() throws {
        let s = try TestServer()
        for (choice, only) in [("\"required\"", nil as String?), (#"{"type":"function","function":{"name":"t"}}"#, "t")] {
            for seed in 0..<6 {
                let r = try s.post("/v1/chat/completions", #"{"messages":\#(Self.user),"tools":[\#(Self.weather),\#(Self.time)],"tool_choice":\#(choice),"max_tokens":60,"seed":\#(seed),"temperature":1.2}"#)
                #expect(r.status == 200, "\(r.text)")
                let c = try #require((r.json["choices"] as? [[String: Any]])?.first)
                let message = try #require(c["message"] as? [String: Any])
                let calls = try #require(message["tool_calls"] as? [[String: Any]], "\(r.text)")
                #expect(!calls.isEmpty && calls.allSatisfy(Self.checkCall), "\(r.text)")
                if let only { #expect(calls.allSatisfy { ($0["function"] as? [String: Any])?["name"] as? String == only }) }
                #expect(message["content"] is NSNull)
                #expect(c["finish_reason"] as? String == "tool_calls")
            }
        }
    }

    /// `auto`: free text, or calls; never a broken call, and `tool_calls` exactly when there are calls.
    @Test func autoToolChoiceAnswersInTextOrInValidCalls() throws {
        let s = try TestServer()
        // Biased towards the opening tag's first byte, so that some answers do call.
        let lt = try #require(sharedBundle.tokenizer.id(forToken: "<"))
        for seed in 0..<8 {
            let r = try s.post("/v1/chat/completions", #"{"messages":\#(Self.user),"tools":[\#(Self.weather),\#(Self.time)],"max_tokens":60,"seed":\#(seed),"logit_bias":{"\#(lt)":\#(seed % 2 == 0 ? 6 : 0)}}"#)
            #expect(r.status == 200, "\(r.text)")
            let c = try #require((r.json["choices"] as? [[String: Any]])?.first)
            let message = try #require(c["message"] as? [String: Any])
            if let calls = message["tool_calls"] as? [[String: Any]] {
                #expect(!calls.isEmpty && calls.allSatisfy(Self.checkCall), "\(r.text)")
                #expect(c["finish_reason"] as? String == "tool_calls")
            } else {
                let content = try #require(message["content"] as? String)
                #expect(!content.contains("<tool_call>"), "\(content)")
                #expect(c["finish_reason"] as? String != "tool_calls")
            }
        }
    }

    @Test func streamedToolCallsMatchTheWholeAnswer() throws {
        let s = try TestServer()
        let body = #""messages":\#(Self.user),"tools":[\#(Self.weather),\#(Self.time)],"tool_choice":"required","parallel_tool_calls":false,"max_tokens":60,"seed":21"#
        let whole = try s.post("/v1/chat/completions", "{\(body)}")
        let message = try #require((whole.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])
        let calls = try #require(message["tool_calls"] as? [[String: Any]])
        #expect(calls.count == 1)
        let stream = try s.post("/v1/chat/completions", "{\(body),\"stream\":true}")
        #expect(stream.status == 200)
        let choices = stream.eventObjects.compactMap { ($0["choices"] as? [[String: Any]])?.first }
        let streamedCalls = choices.compactMap { ($0["delta"] as? [String: Any])?["tool_calls"] as? [[String: Any]] }.flatMap { $0 }
        #expect(streamedCalls.count == 1)
        #expect(streamedCalls.first?["index"] as? Int == 0)
        let a = streamedCalls.first?["function"] as? [String: Any], b = calls.first?["function"] as? [String: Any]
        #expect(a?["name"] as? String == b?["name"] as? String && a?["arguments"] as? String == b?["arguments"] as? String)
        #expect(choices.compactMap { $0["finish_reason"] as? String } == ["tool_calls"])
    }

    /// A call, its result sent back as a tool message, and the next answer.
    @Test func aToolRoundTrip() throws {
        let s = try TestServer()
        let first = try s.post("/v1/chat/completions", #"{"messages":\#(Self.user),"tools":[\#(Self.weather)],"tool_choice":"required","max_tokens":80,"seed":2}"#)
        let call = try #require(((first.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["tool_calls"] as? [[String: Any]]).first
        let id = try #require(call?["id"] as? String)
        let function = try #require(call?["function"] as? [String: Any])
        let assistant = #"{"role":"assistant","content":null,"tool_calls":[{"id":\#(jsonString(id)),"type":"function","function":{"name":"w","arguments":\#(jsonString(function["arguments"] as! String))}}]}"#
        let tool = #"{"role":"tool","tool_call_id":\#(jsonString(id)),"content":"12 degrees"}"#
        let second = try s.post("/v1/chat/completions", #"{"messages":[{"role":"user","content":"Describe a person."},\#(assistant),\#(tool)],"tools":[\#(Self.weather)],"max_tokens":8,"seed":2}"#)
        #expect(second.status == 200, "\(second.text)")
        #expect(((second.json["usage"] as? [String: Any])?["prompt_tokens"] as? Int ?? 0) > ((first.json["usage"] as? [String: Any])?["prompt_tokens"] as? Int ?? 0))
    }

    @Test func builtInTemplateListsToolsAndWritesCallsBack() throws {
        let format = sharedBundle.chatFormat
        let messages = try JSON.parse(Array(#"[{"role":"user","content":"Hi"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":{"x":1}}}]},{"role":"tool","tool_call_id":"c1","content":"2"}]"#.utf8))
        guard case .array(let items) = messages else { Issue.record("not an array"); return }
        let tools = try JSON.parse(Array(#"[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]"#.utf8))
        guard case .array(let toolList) = tools else { Issue.record("not an array"); return }
        let text = try format.render(messages: items, tools: toolList)
        #expect(text == """
            System: You can call these tools:
            {"name": "f", "parameters": {"type": "object"}}
            To call one, answer with <tool_call>{"name": "<tool name>", "arguments": {<its arguments>}}</tool_call>.

            User: Hi

            Assistant: <tool_call>{"name": "f", "arguments": {"x": 1}}</tool_call>

            Tool: 2

            Assistant:
            """)
        // Without tools the template is the plain one.
        #expect(try format.render(messages: [items[0]]) == "User: Hi\n\nAssistant:")
    }

    @Test func toolCallTextSplitsAsTextArrives() {
        var t = ToolCallText()
        var content = "", calls: [ToolCall] = []
        for piece in ["Let me ", "check.<tool", "_call>{\"name\": \"f\", ", "\"arguments\": {\"x\": 1}}</tool_", "call>\n<tool_call>{\"name\": \"g\"}</tool_call>"] {
            let (c, k) = t.feed(piece)
            content += c
            calls += k
        }
        content += t.finish()
        #expect(content == "Let me check.")
        #expect(calls.map(\.name) == ["f", "g"])
        #expect(calls.map(\.arguments) == [#"{"x":1}"#, "{}"])
        // A tag that never closes comes back as content; so does text that only looks like a tag's start.
        #expect(ToolCallText.split("a <tool_call>{\"name\"").content == "a <tool_call>{\"name\"")
        #expect(ToolCallText.split("x <tool").content == "x <tool")
        #expect(ToolCallText.split("<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>").content == nil)
    }
}
