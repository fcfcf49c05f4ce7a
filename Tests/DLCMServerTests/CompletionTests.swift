import Foundation
import Testing
@testable import DLCMServer
import StrictJSON

@Suite struct CompletionTests {
    @Test func nonStreamingCompletion() throws {
        let s = try TestServer()
        let r = try s.post("/v1/completions", #"{"model":"tiny-served","prompt":"Hello, world","max_tokens":12,"seed":3,"ignore_eos":true,"unknown_field":1}"#)
        #expect(r.status == 200)
        #expect(r.headers["Content-Type"] == "application/json")
        let j = r.json
        #expect(j["object"] as? String == "text_completion")
        #expect(j["model"] as? String == "tiny-served")
        let id = try #require(j["id"] as? String)
        #expect(id.hasPrefix("cmpl-") && id.count == 37 && id.dropFirst(5).allSatisfy(\.isHexDigit))
        // Each completion its own id.
        let again = try s.post("/v1/completions", #"{"prompt":"Hello, world","max_tokens":1}"#).json["id"] as? String
        #expect(again?.hasPrefix("cmpl-") == true && again != id)
        let choice = try #require((j["choices"] as? [[String: Any]])?.first)
        #expect(choice["finish_reason"] as? String == "length")
        #expect(choice["index"] as? Int == 0)
        let usage = try #require(j["usage"] as? [String: Any])
        let promptTokens = sharedBundle.tokenizer.encode("Hello, world", parseSpecial: false).count
        #expect(usage["prompt_tokens"] as? Int == promptTokens)   // BOS not counted
        #expect(usage["completion_tokens"] as? Int == 12)
        #expect(usage["total_tokens"] as? Int == promptTokens + 12)
    }

    @Test func streamingCompletionMatchesNonStreaming() throws {
        let s = try TestServer()
        let body = #""prompt":"The engine","max_tokens":20,"seed":11,"temperature":0.9,"ignore_eos":true"#
        let r = try s.post("/v1/completions", "{\(body),\"stream\":true,\"stream_options\":{\"include_usage\":true}}")
        #expect(r.status == 200)
        #expect(r.headers["Content-Type"] == "text/event-stream")
        #expect(r.headers["Transfer-Encoding"] == "chunked")
        #expect(r.events.last == "[DONE]")
        let objects = r.eventObjects
        let usageChunk = try #require(objects.last)
        #expect((usageChunk["choices"] as? [Any])?.isEmpty == true)
        #expect((usageChunk["usage"] as? [String: Any])?["completion_tokens"] as? Int == 20)
        let finishes = objects.compactMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String }
        #expect(finishes == ["length"])
        let streamed = objects.compactMap { ($0["choices"] as? [[String: Any]])?.first?["text"] as? String }.joined()
        #expect(streamed == (try s.completionText("{\(body)}")))
        // Token chunks are spliced from pre-rendered bytes: each must be exactly what the
        // server's JSON writer makes of the same object, key order and escapes included.
        for event in r.events.dropLast() {
            var rendered: [UInt8] = []
            try JSON.parse(Array(event.utf8)).write(to: &rendered)
            #expect(String(decoding: rendered, as: UTF8.self) == event)
        }
    }

    @Test func sameSeedSameText() throws {
        let s = try TestServer()
        let body = #"{"prompt":"One, two","max_tokens":24,"seed":42,"top_p":0.9,"top_k":50,"min_p":0.01,"presence_penalty":0.5,"frequency_penalty":0.2,"repetition_penalty":1.1,"logit_bias":{"65":2.5},"ignore_eos":true}"#
        let a = try s.completionText(body), b = try s.completionText(body)
        #expect(a == b)
        #expect(!a.isEmpty)
        let c = try s.completionText(body.replacingOccurrences(of: "\"seed\":42", with: "\"seed\":43"))
        #expect(c != a)
    }

    @Test func stopStringEndsTheText() throws {
        let s = try TestServer()
        let base = #""prompt":"Hello","max_tokens":60,"temperature":0,"ignore_eos":true"#
        let full = try s.completionText("{\(base)}")
        // A stop string taken from the middle of the greedy text: the answer is what precedes it.
        let chars = Array(full)
        let start = chars.count / 2
        let stop = String(chars[start..<(start + 2)])
        let expected = String(full[..<full.range(of: stop)!.lowerBound])
        let r = try s.post("/v1/completions", "{\(base),\"stop\":[\(jsonString(stop)),\"zzzz-never\"]}")
        let choice = try #require((r.json["choices"] as? [[String: Any]])?.first)
        #expect(choice["text"] as? String == expected)
        #expect(choice["finish_reason"] as? String == "stop")
        // Streamed, the stop string never leaks either.
        let streamed = try s.completionText("{\(base),\"stream\":true,\"stop\":\(jsonString(stop))}")
        #expect(streamed == expected)
    }

    @Test func echoWithLogprobs() throws {
        let s = try TestServer()
        let r = try s.post("/v1/completions", #"{"prompt":"Hello, world","max_tokens":5,"echo":true,"logprobs":3,"seed":1,"ignore_eos":true}"#)
        #expect(r.status == 200)
        let choice = try #require((r.json["choices"] as? [[String: Any]])?.first)
        #expect((choice["text"] as? String)?.hasPrefix("Hello, world") == true)
        let lp = try #require(choice["logprobs"] as? [String: Any])
        let tokens = try #require(lp["tokens"] as? [String])
        let values = try #require(lp["token_logprobs"] as? [Any])
        let tops = try #require(lp["top_logprobs"] as? [Any])
        let promptCount = sharedBundle.tokenizer.encode("Hello, world", parseSpecial: false).count
        #expect(tokens.count == promptCount + 5)
        #expect(values.count == tokens.count && tops.count == tokens.count)
        #expect(tokens.prefix(promptCount).joined() == "Hello, world")
        // Every token, the prompt's first included (it follows the BOS), has a log-probability <= 0.
        for v in values { #expect(((v as? Double) ?? 1) <= 0) }
        #expect((tops.first as? [String: Any])?.count == 3)
        #expect((lp["text_offset"] as? [Int])?.first == 0)
    }

    @Test func severalChoicesAndPrompts() throws {
        let s = try TestServer()
        let r = try s.post("/v1/completions", #"{"prompt":["Hello",[40,69]],"n":2,"max_tokens":8,"seed":5,"ignore_eos":true}"#)
        #expect(r.status == 200)
        let choices = try #require(r.json["choices"] as? [[String: Any]])
        #expect(choices.map { $0["index"] as? Int } == [0, 1, 2, 3])
        let texts = choices.compactMap { $0["text"] as? String }
        #expect(texts.count == 4)
        #expect(texts[0] != texts[1])   // seed, seed+1: independent samples
        let usage = try #require(r.json["usage"] as? [String: Any])
        #expect(usage["completion_tokens"] as? Int == 32)
        // The two choices of a prompt read it once, yet each equals its own request (seed, seed+1).
        #expect(s.engine.metrics.snapshot.promptTokens == UInt64(sharedBundle.tokenizer.encode("Hello", parseSpecial: false).count + 1 + 3))
        #expect(texts[1] == (try s.completionText(#"{"prompt":"Hello","max_tokens":8,"seed":6,"ignore_eos":true}"#)))
        #expect(texts[2] == (try s.completionText(#"{"prompt":[40,69],"max_tokens":8,"seed":5,"ignore_eos":true}"#)))
        #expect(usage["prompt_tokens"] as? Int == sharedBundle.tokenizer.encode("Hello", parseSpecial: false).count + 2)
    }

    @Test func conceptExtension() throws {
        let s = try TestServer()
        let r = try s.post("/v1/completions", #"{"prompt":"The quick brown fox","max_tokens":10,"seed":2,"ignore_eos":true,"dlcm":{"concepts":true}}"#)
        let choice = try #require((r.json["choices"] as? [[String: Any]])?.first)
        let ext = try #require(choice["dlcm"] as? [String: Any])
        let starts = try #require(ext["concept_starts"] as? [Bool])
        #expect(starts.count == 10)
        #expect(ext["completion_concepts"] as? Int == starts.filter { $0 }.count)
        #expect((ext["prompt_concepts"] as? Int ?? 0) >= 1)
        // Reporting concepts holds each token back one step but must not change the text.
        let plain = try s.completionText(#"{"prompt":"The quick brown fox","max_tokens":10,"seed":2,"ignore_eos":true}"#)
        #expect(choice["text"] as? String == plain)
        // Streamed: one concept flag per token chunk, counts on the final chunk.
        let sr = try s.post("/v1/completions", #"{"prompt":"The quick brown fox","max_tokens":10,"seed":2,"ignore_eos":true,"stream":true,"dlcm":{"concepts":true}}"#)
        let flags = sr.eventObjects.compactMap { (($0["choices"] as? [[String: Any]])?.first?["dlcm"] as? [String: Any])?["concept_starts"] as? [Bool] }
        #expect(flags.flatMap { $0 } == starts)
    }

    @Test func timeoutFinishReason() throws {
        let s = try TestServer(engine: .init(minimumStepSeconds: 0.01))
        let r = try s.post("/v1/completions", #"{"prompt":"Hi","max_tokens":400,"ignore_eos":true,"dlcm":{"timeout":0.2}}"#)
        let choice = try #require((r.json["choices"] as? [[String: Any]])?.first)
        #expect(choice["finish_reason"] as? String == "timeout")
        #expect(s.engine.metrics.snapshot.timedOut == 1)
    }

    @Test func maxTokensZeroScoresThePrompt() throws {
        let s = try TestServer()
        let r = try s.post("/v1/completions", #"{"prompt":"Hello","max_tokens":0,"echo":true,"logprobs":0}"#)
        #expect(r.status == 200)
        let choice = try #require((r.json["choices"] as? [[String: Any]])?.first)
        #expect(choice["text"] as? String == "Hello")
        #expect(((choice["logprobs"] as? [String: Any])?["token_logprobs"] as? [Any])?.count == sharedBundle.tokenizer.encode("Hello", parseSpecial: false).count)
    }
}

func jsonString(_ s: String) -> String {
    String(decoding: try! JSONSerialization.data(withJSONObject: [s]), as: UTF8.self).dropFirst().dropLast().description
}
