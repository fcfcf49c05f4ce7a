@testable import DLCMServer
import DLCMEngine
import Foundation
import Locking
import Testing
import TestSupport

/// The prefix cache over HTTP: `usage.prompt_tokens_details.cached_tokens` (streamed or not,
/// completions and chat), `cache_prompt`, `cache_salt`, API keys kept apart unless the cache is
/// shared, the metrics and the request log's `cached_tokens`.
@Suite struct PrefixCacheAPITests {
    /// A grid of 16 tokens so that the fixture's short prompts span several cells.
    static func server(keys: [String] = [], shared: Bool = false, logger: LogCapture? = nil,
                       cacheBytes: Int = EngineConfiguration.defaultPrefixCacheBytes) throws -> TestServer {
        var api = APIConfiguration()
        api.apiKeys = APIKeys(keys)
        api.prefixCacheShared = shared
        if let logger { api.logger = logger.logger }
        return try TestServer(engine: EngineConfiguration(prefillChunk: 16, prefixCacheBytes: cacheBytes), api: api)
    }

    /// A prompt of 60-odd tokens: three whole cells of 16 and part of a fourth.
    static let prompt = "The quick brown fox jumps over the lazy dog while the engine reads every token of its prompt once and then again."

    static func body(_ extra: String = "", stream: Bool = false) -> String {
        #"{"prompt":\#(jsonString(prompt)),"max_tokens":6,"seed":5,"temperature":0.8,"ignore_eos":true\#(extra),"stream":\#(stream),"stream_options":\#(stream ? #"{"include_usage":true}"# : "null")}"#
    }

    static func cached(_ r: TestResponse) -> Int? {
        let usage = r.headers["Content-Type"] == "text/event-stream" ? r.eventObjects.last?["usage"] : r.json["usage"]
        return ((usage as? [String: Any])?["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int
    }

    static func text(_ r: TestResponse) -> String {
        if r.headers["Content-Type"] == "text/event-stream" {
            return r.eventObjects.compactMap { ($0["choices"] as? [[String: Any]])?.first?["text"] as? String }.joined()
        }
        return ((r.json["choices"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
    }

    @Test func repeatedPromptsReportCachedTokensAndTheSameText() throws {
        let s = try Self.server()
        let promptTokens = sharedBundle.tokenizer.encode(Self.prompt, parseSpecial: false).count   // BOS not counted
        let cold = try s.post("/v1/completions", Self.body())
        #expect(cold.status == 200)
        #expect(Self.cached(cold) == 0)
        // The cells of 16 (BOS included) that end before the prompt's last token.
        let expected = (promptTokens / 16) * 16 - 1
        for stream in [false, true] {
            let warm = try s.post("/v1/completions", Self.body(stream: stream))
            #expect(warm.status == 200)
            #expect(Self.cached(warm) == expected, "stream \(stream)")
            #expect(Self.text(warm) == Self.text(cold))
        }
        let optOut = try s.post("/v1/completions", Self.body(#","cache_prompt":false"#))
        #expect(Self.cached(optOut) == 0 && Self.text(optOut) == Self.text(cold))
        let metrics = try s.call("GET", "/metrics").text
        #expect(metrics.contains("dlcm_prefix_cache_hit_tokens_total \(2 * (expected + 1))"))
        #expect(metrics.contains("dlcm_prefix_cache_entries \(promptTokens / 16)"))
        #expect(metrics.contains("# TYPE dlcm_prefix_cache_bytes gauge"))
        #expect(metrics.contains("dlcm_prefix_cache_evictions_total 0"))
    }

    @Test func chatReportsCachedTokens() throws {
        let s = try Self.server()
        let chat = #"{"messages":[{"role":"system","content":\#(jsonString(Self.prompt))},{"role":"user","content":"And then?"}],"max_tokens":4,"seed":2}"#
        let cold = try s.post("/v1/chat/completions", chat)
        let warm = try s.post("/v1/chat/completions", chat)
        #expect(cold.status == 200 && warm.status == 200)
        #expect(Self.cached(cold) == 0)
        #expect((Self.cached(warm) ?? 0) >= 47)
    }

    @Test func saltsKeepPromptsApart() throws {
        let s = try Self.server()
        _ = try s.post("/v1/completions", Self.body(#","cache_salt":"alice""#))
        #expect(Self.cached(try s.post("/v1/completions", Self.body(#","cache_salt":"bob""#))) == 0)
        #expect(Self.cached(try s.post("/v1/completions", Self.body())) == 0)
        #expect((Self.cached(try s.post("/v1/completions", Self.body(#","cache_salt":"alice""#))) ?? 0) > 0)
    }

    @Test func keysKeepPromptsApartUnlessShared() throws {
        for shared in [false, true] {
            let s = try Self.server(keys: ["sk-one", "sk-two"], shared: shared)
            func post(_ key: String) throws -> Int? {
                let r = try s.call("POST", "/v1/completions", json: Self.body(), headers: [("Authorization", "Bearer \(key)")])
                #expect(r.status == 200)
                return Self.cached(r)
            }
            #expect(try post("sk-one") == 0)
            #expect(try post("sk-two") == 0 || shared)
            #expect((try post("sk-one") ?? 0) > 0)
            if shared { #expect((try post("sk-two") ?? 0) > 0) }
        }
    }

    @Test(arguments: [
        (#","cache_prompt":"yes""#, "cache_prompt"), (#","cache_salt":7"#, "cache_salt"),
        (",\"cache_salt\":\"\(String(repeating: "s", count: 1025))\"", "cache_salt"),
    ])
    func badFieldsAre400(extra: String, param: String) throws {
        let s = try Self.server()
        let r = try s.post("/v1/completions", Self.body(extra))
        #expect(r.status == 400)
        #expect(r.error["param"] as? String == param)
    }

    /// A budget of fewer blocks than the prompts have, under 48 concurrent requests over 6 prompt
    /// families: blocks are evicted and added while others resume from them, every request
    /// answers, the budget holds, and a prompt's greedy answer is the same every time it is asked.
    @Test func evictionUnderConcurrentLoad() throws {
        let budget = 320 << 10   // about 20 blocks of the fixture, for 6 families of 5 cells
        let s = try Self.server(cacheBytes: budget)
        let families = (0..<6).map { "Family \($0): " + Self.prompt }
        let answers = Locked<[Int: Set<String>]>([:])
        let failures = Locked<[String]>([])
        let port = s.port
        // One thread per client: all 48 in flight at once (16 running, the rest queued).
        let done = DispatchGroup()
        for i in 0..<48 {
            done.enter()
            Thread {
                defer { done.leave() }
                let f = i % families.count
                let body = #"{"prompt":\#(jsonString(families[f] + (i % 2 == 0 ? "" : " Again?"))),"max_tokens":4,"temperature":0}"#
                do {
                    let client = try TestClient(port: port, receiveTimeout: 20)
                    try client.request("POST", "/v1/completions", body: Array(body.utf8), contentType: "application/json", headers: [])
                    let r = try client.expectResponse(isHead: false)
                    guard r.status == 200 else { failures.withLock { $0.append("status \(r.status)") }; return }
                    answers.withLock { $0[i % 12, default: []].insert(Self.text(r)) }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }.start()
        }
        #expect(done.wait(timeout: .now() + 60) == .success)
        #expect(failures.withLock { $0 }.isEmpty)
        #expect(answers.withLock { $0 }.values.allSatisfy { $0.count == 1 })
        let metrics = try s.call("GET", "/metrics").text
        func value(_ name: String) -> Double? {
            metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
        }
        #expect((value("dlcm_prefix_cache_bytes") ?? .infinity) <= Double(budget))
        #expect((value("dlcm_prefix_cache_evictions_total") ?? 0) > 0)
        #expect((value("dlcm_prefix_cache_hit_tokens_total") ?? 0) > 0, "\(metrics.split(separator: "\n").filter { $0.hasPrefix("dlcm_prefix") })")
    }

    @Test func theRequestLogSaysCachedTokens() throws {
        let capture = LogCapture()
        let s = try Self.server(logger: capture)
        for id in ["cold", "warm"] {
            let r = try s.call("POST", "/v1/completions", json: Self.body(), headers: [("X-Request-Id", id)])
            #expect(r.status == 200)
        }
        let cold = LogCapture.fields(try #require(capture.request(id: "cold")))
        let warm = LogCapture.fields(try #require(capture.request(id: "warm")))
        #expect(cold["cached_tokens"] == "0")
        #expect(warm["cached_tokens"].flatMap(Int.init) ?? 0 > 0)
    }
}
