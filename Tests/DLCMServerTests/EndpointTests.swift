import Foundation
import Testing

@Suite struct EndpointTests {
    @Test func tokenizeDetokenizeRoundTrip() throws {
        let s = try TestServer()
        let text = "Hello, world! café 🙂 <|endoftext|>"
        let t = try s.post("/v1/tokenize", "{\"text\":\(jsonString(text))}")
        #expect(t.status == 200)
        let tokens = try #require(t.json["tokens"] as? [Int])
        #expect(t.json["count"] as? Int == tokens.count)
        #expect(t.json["max_model_len"] as? Int == 512)
        #expect(!tokens.contains(0))   // untrusted text: special tokens are not parsed
        let d = try s.post("/v1/detokenize", "{\"tokens\":\(tokens)}")
        #expect(d.json["text"] as? String == text)
        let bos = try s.post("/v1/tokenize", #"{"prompt":"Hi","add_bos":true}"#)
        #expect((bos.json["tokens"] as? [Int])?.first == 0)
        #expect(try s.post("/v1/detokenize", #"{"tokens":[1,100000]}"#).status == 400)
        #expect(try s.post("/v1/tokenize", #"{"tokens":[1]}"#).status == 400)
    }

    @Test func segmentCutsTextIntoConcepts() throws {
        let s = try TestServer()
        let text = "The quick brown fox jumps over the lazy dog. Hello, world!"
        let r = try s.post("/v1/segment", "{\"text\":\(jsonString(text))}")
        #expect(r.status == 200)
        let concepts = try #require(r.json["concepts"] as? [[String: Any]])
        let tokens = try #require(r.json["tokens"] as? [[String: Any]])
        #expect(tokens.count == sharedBundle.tokenizer.encode(text, parseSpecial: false).count)
        #expect(concepts.count > 1 && concepts.count < tokens.count)
        // Concepts tile the text: contiguous token spans whose texts concatenate to the input.
        #expect(concepts.compactMap { $0["text"] as? String }.joined() == text)
        var next = 0
        for c in concepts {
            #expect(c["token_start"] as? Int == next)
            next = c["token_end"] as? Int ?? -1
        }
        #expect(next == tokens.count)
        for t in tokens {
            let p = try #require(t["boundary_probability"] as? Double)
            #expect(p >= 0 && p <= 1)
            #expect((t["starts_concept"] as? Bool) == (p >= 0.5))
        }
        let usage = try #require(r.json["usage"] as? [String: Any])
        #expect(usage["concepts"] as? Int == concepts.count)
        // Same answer from token ids.
        let ids = sharedBundle.tokenizer.encode(text, parseSpecial: false)
        let byIds = try s.post("/v1/segment", "{\"tokens\":\(ids)}")
        #expect((byIds.json["concepts"] as? [[String: Any]])?.count == concepts.count)
        #expect(try s.post("/v1/segment", "{}").status == 400)
    }

    @Test func modelsList() throws {
        let s = try TestServer()
        let r = try s.call("GET", "/v1/models")
        #expect(r.status == 200)
        #expect(r.json["object"] as? String == "list")
        let model = try #require((r.json["data"] as? [[String: Any]])?.first)
        #expect(model["id"] as? String == "tiny-served")
        #expect(model["object"] as? String == "model")
        #expect(try s.call("GET", "/v1/models/tiny-served").json["id"] as? String == "tiny-served")
        #expect(try s.call("GET", "/v1/models/other").status == 404)
    }

    @Test func segmentAtAnotherThreshold() throws {
        let s = try TestServer()
        let text = "The quick brown fox jumps over the lazy dog."
        let at = { (t: Double) throws -> Int in
            try s.post("/v1/segment", "{\"text\":\(jsonString(text)),\"threshold\":\(t),\"include_tokens\":false}").json["usage"]
                .flatMap { ($0 as? [String: Any])?["concepts"] as? Int } ?? -1
        }
        let low = try at(0.2), mid = try at(0.5), high = try at(0.9)
        #expect(low >= mid && mid >= high && high >= 1)
        #expect(low > high)
        let tokens = sharedBundle.tokenizer.encode(text, parseSpecial: false).count
        #expect(try at(1e-6) == tokens)   // every token its own concept
        #expect(try s.post("/v1/segment", #"{"text":"a","threshold":2}"#).status == 400)
    }

    @Test func healthAndReady() throws {
        let s = try TestServer()
        let h = try s.call("GET", "/health")
        #expect(h.status == 200)
        #expect(h.json["status"] as? String == "ok")
        #expect(h.headers["Content-Type"] == "application/json")
        // The age is a number of seconds with microseconds, e.g. 0.012345.
        let age = try #require(h.json["seconds_since_engine_heartbeat"] as? Double)
        #expect(age >= 0 && age < 1)
        #expect(String(decoding: h.body, as: UTF8.self).range(of: #""seconds_since_engine_heartbeat":\d+\.\d{6}\}$"#, options: .regularExpression) != nil)
        let before = h.json["engine_loop_iterations"] as? Int ?? 0
        usleep(250_000)
        // The idle loop still goes round (that is what /health watches).
        #expect((try s.call("GET", "/health").json["engine_loop_iterations"] as? Int ?? 0) > before)
        let r = try s.call("GET", "/ready")
        #expect(r.status == 200)
        #expect(r.json["status"] as? String == "ready")
        #expect(try s.call("HEAD", "/health").status == 200)
    }

    @Test func healthFailsWhenTheEngineStops() throws {
        var config = APIConfigurationForTests.short
        config.stallSeconds = 0.3
        let s = try TestServer(api: config)
        s.engine.stop()   // the loop no longer goes round
        usleep(500_000)
        let h = try s.call("GET", "/health")
        #expect(h.status == 503)
        #expect(h.json["status"] as? String == "stalled")
    }

    @Test func metricsInPrometheusFormat() throws {
        let s = try TestServer()
        _ = try s.post("/v1/completions", #"{"prompt":"Hello","max_tokens":4,"ignore_eos":true,"stream":true}"#)
        _ = try s.call("GET", "/nope")
        // A stream is counted by the thread that queued its last chunk, after the queueing: the
        // client can read the whole stream and scrape before the count lands (harmless to a
        // scraper, which sees it on its next scrape). Scrape until it is there, 2 s at most.
        let completed = #"dlcm_http_requests_total{route="/v1/completions",status="200"} 1"#
        var r = try s.call("GET", "/metrics")
        let deadline = Date().addingTimeInterval(2)
        while !r.text.contains(completed), Date() < deadline {
            usleep(10_000)
            r = try s.call("GET", "/metrics")
        }
        #expect(r.status == 200)
        #expect(r.headers["Content-Type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        let text = r.text
        for name in ["dlcm_http_requests_total", "dlcm_http_request_duration_seconds", "dlcm_time_to_first_token_seconds",
                     "dlcm_inter_token_latency_seconds", "dlcm_queue_length", "dlcm_running_sequences", "dlcm_batch_size",
                     "dlcm_prompt_tokens_total", "dlcm_generated_tokens_total", "dlcm_concepts_emitted_total",
                     "dlcm_tokens_per_concept", "dlcm_kv_cache_bytes", "dlcm_cancelled_requests_total"] {
            #expect(text.contains("# TYPE \(name) "), "missing \(name)")
        }
        #expect(text.contains(completed))
        #expect(text.contains(#"dlcm_http_requests_total{route="unmatched",status="404"} 1"#))
        #expect(text.contains("dlcm_generated_tokens_total 3"))   // the 4th token is never fed back
        #expect(text.contains(#"dlcm_time_to_first_token_seconds_bucket{le="+Inf"} 1"#))
        #expect(text.contains("dlcm_inter_token_latency_seconds_count 3"))
        // Every sample line is `name{labels} value` with a numeric value.
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let value = line.split(separator: " ").last.map(String.init) ?? ""
            #expect(Double(value) != nil || value == "+Inf", "bad sample line \(line)")
        }
    }
}
