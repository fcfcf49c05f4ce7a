import DLCMEngine
@testable import DLCMServer
import Foundation
import HTTPServer
import Testing
import TestSupport

@Suite struct StreamingTests {
    @Test func clientDisconnectCancelsTheSequence() throws {
        let s = try TestServer(engine: .init(minimumStepSeconds: 0.005))
        let client = try TestClient(port: s.port, receiveTimeout: 20)
        try client.request("POST", "/v1/completions", body: Array(#"{"prompt":"Hello","max_tokens":400,"ignore_eos":true,"stream":true}"#.utf8))
        #expect(try client.expectHead().status == 200)
        _ = try client.readChunk()   // a first event arrived: the sequence is running
        #expect(s.engine.metrics.snapshot.running == 1)
        client.close()
        #expect(s.waitFor { s.engine.metrics.snapshot.cancelled == 1 && s.engine.metrics.snapshot.running == 0 })
        #expect(s.engine.metrics.snapshot.kvCacheBytes == 0)
        let metrics = try s.call("GET", "/metrics").text
        #expect(metrics.contains("dlcm_cancelled_requests_total 1"))
        #expect(metrics.contains("dlcm_running_sequences 0"))
        #expect(metrics.contains(#"dlcm_http_requests_total{route="/v1/completions",status="499"} 1"#))
    }

    @Test func disconnectMidPrefillCancels() throws {
        // A 4-token prefill chunk and 50 ms steps: a 320-token prompt takes ~4 s to read.
        let s = try TestServer(engine: .init(prefillChunk: 4, minimumStepSeconds: 0.05))
        let client = try TestClient(port: s.port, receiveTimeout: 20)
        let prompt = String(repeating: "The quick brown fox. ", count: 20)
        try client.request("POST", "/v1/completions", body: Array("{\"prompt\":\(jsonString(prompt)),\"max_tokens\":5}".utf8))
        #expect(s.waitFor { s.engine.metrics.snapshot.running == 1 && s.engine.metrics.snapshot.promptTokens > 0 })
        client.close()
        #expect(s.waitFor(seconds: 1) { s.engine.metrics.snapshot.cancelled == 1 && s.engine.metrics.snapshot.running == 0 })
    }

    @Test func disconnectWhileNChoicesShareAPrefill() throws {
        // n = 4: one sequence reads the prompt, three wait to fork it; all four go with the client.
        let s = try TestServer(engine: .init(prefillChunk: 4, minimumStepSeconds: 0.05))
        let client = try TestClient(port: s.port, receiveTimeout: 20)
        let prompt = String(repeating: "The quick brown fox. ", count: 20)
        try client.request("POST", "/v1/completions", body: Array("{\"prompt\":\(jsonString(prompt)),\"max_tokens\":5,\"n\":4}".utf8))
        #expect(s.waitFor { s.engine.metrics.snapshot.running == 1 && s.engine.metrics.snapshot.promptTokens > 0 })
        client.close()
        #expect(s.waitFor(seconds: 1) { s.engine.metrics.snapshot.cancelled == 4 && s.engine.metrics.snapshot.running == 0 })
        // Nothing leaked: the whole capacity is free again.
        #expect(try s.post("/v1/completions", "{\"prompt\":\"a\",\"n\":8,\"max_tokens\":1}").status == 200)
    }

    @Test func keepAliveDuringLongPrefill() throws {
        let s = try TestServer(engine: .init(prefillChunk: 8, minimumStepSeconds: 0.02), api: APIConfigurationForTests.short)
        let prompt = String(repeating: "Hello there. ", count: 20)
        let r = try s.post("/v1/completions", "{\"prompt\":\(jsonString(prompt)),\"max_tokens\":2,\"stream\":true}")
        #expect(r.status == 200)
        #expect(r.text.hasPrefix(": keep-alive\n\n"))
        #expect(r.events.last == "[DONE]")
    }

    @Test func decodeKeepsFlowingDuringAnotherPrefill() throws {
        // Stream A decodes while B's long prompt is read in chunks: A's tokens keep coming.
        let s = try TestServer(engine: .init(prefillChunk: 4, minimumStepSeconds: 0.01))
        let a = try TestClient(port: s.port, receiveTimeout: 20)
        try a.request("POST", "/v1/completions", body: Array(#"{"prompt":"A","max_tokens":60,"ignore_eos":true,"stream":true}"#.utf8))
        #expect(try a.expectHead().status == 200)
        _ = try a.readChunk()
        let b = try TestClient(port: s.port, receiveTimeout: 20)
        let prompt = String(repeating: "The quick brown fox. ", count: 20)
        try b.request("POST", "/v1/completions", body: Array("{\"prompt\":\(jsonString(prompt)),\"max_tokens\":1}".utf8))
        var events = 0
        #expect(s.waitFor { s.engine.metrics.snapshot.running == 2 })
        let prefillStart = s.engine.metrics.snapshot.promptTokens
        while events < 10, let chunk = try a.readChunk() { if !chunk.isEmpty { events += 1 } }
        // B was still being prefilled while A produced 10 events.
        #expect(s.engine.metrics.snapshot.promptTokens - prefillStart < UInt64(sharedBundle.tokenizer.encode(prompt, parseSpecial: false).count))
        #expect(events == 10)
        #expect(s.engine.metrics.snapshot.batchSize.count > 0)
    }
}

/// `APIConfiguration.streamInterval`: a stream's events after the first leave together.
@Suite struct StreamIntervalTests {
    static let body = #"{"prompt":"Hello","max_tokens":30,"seed":5,"temperature":0.8,"ignore_eos":true,"stream":true,"stream_options":{"include_usage":true}}"#

    /// The chunks of one streamed answer, as written.
    static func chunks(_ port: Int) throws -> [[UInt8]] {
        let client = try TestClient(port: port, receiveTimeout: 20)
        defer { client.close() }
        try client.request("POST", "/v1/completions", body: Array(body.utf8))
        #expect(try client.expectHead().status == 200)
        var chunks: [[UInt8]] = []
        while let c = try client.readChunk() { chunks.append(c) }
        return chunks
    }

    /// The text of every token event, in order (ids and timestamps differ between runs).
    static func texts(_ chunks: [[UInt8]]) -> [String] {
        TestResponse(status: 200, headers: HTTPHeaders(), body: chunks.flatMap { $0 }).eventObjects.compactMap {
            ($0["choices"] as? [[String: Any]])?.first?["text"] as? String
        }
    }

    @Test func heldEventsLeaveTogetherAndUnchanged() throws {
        var api = APIConfiguration()
        api.streamInterval = 1000   // longer than the test: everything after the first event waits for the end
        let held = try TestServer(api: api)
        var each = APIConfiguration()
        each.streamInterval = 0
        let plain = try TestServer(api: each)
        let together = try Self.chunks(held.port)
        let one = try Self.chunks(plain.port)
        // Without an interval, a write per event: the token events, the finish chunk, usage, [DONE].
        #expect(one.count == Self.texts(one).count + 2)
        // With it: the first token at once, then everything else in one write at the end.
        #expect(together.count == 2)
        #expect(String(decoding: together[1].suffix(14), as: UTF8.self) == "data: [DONE]\n\n")
        #expect(Self.texts(together) == Self.texts(one))
        #expect(Self.texts(together).count > 20)
    }

    @Test func firstTokenIsNotHeldBehindAnEcho() throws {
        var api = APIConfiguration()
        api.streamInterval = 1000
        let s = try TestServer(api: api)
        let client = try TestClient(port: s.port, receiveTimeout: 20)
        defer { client.close() }
        try client.request("POST", "/v1/completions", body: Array(#"{"prompt":"Hello","max_tokens":20,"echo":true,"ignore_eos":true,"stream":true}"#.utf8))
        #expect(try client.expectHead().status == 200)
        var chunks: [[UInt8]] = []
        while let c = try client.readChunk() { chunks.append(c) }
        // The echoed prompt, the first token, then the rest at the end.
        #expect(chunks.count == 3)
        let texts = Self.texts(chunks)
        #expect(texts.first == "Hello" && Self.texts([chunks[1]]).count == 1 && texts.count > 10)
    }

    @Test func heldEventsLeaveOnceTheIntervalPasses() throws {
        // Steps of at least 20 ms, intervals of 50 ms: 30 tokens take 600 ms or more, so the held
        // events go out in about a dozen writes, not at the end only.
        var api = APIConfiguration()
        api.streamInterval = 0.05
        let s = try TestServer(engine: .init(minimumStepSeconds: 0.02), api: api)
        let chunks = try Self.chunks(s.port)
        #expect(chunks.count >= 6)
        #expect(Self.texts(chunks).count > 20)
    }
}

@Suite struct ConcurrencyTests {
    /// Greedy, so that the ~1e-7 logit differences between batch shapes (see
    /// BatchInvarianceTests) cannot flip a sampled token; each stream still has its own seed.
    @Test func simultaneousStreamsMatchTheirSoloRuns() throws {
        let s = try TestServer()
        let prompts = ["Hello", "The engine", "One, two, three", "def greet(name):", "café", "It was a bright"]
        let bodies = prompts.enumerated().map { i, p in
            "{\"prompt\":\(jsonString(p)),\"max_tokens\":40,\"seed\":\(100 + i),\"temperature\":0,\"ignore_eos\":true,\"stream\":true}"
        }
        let solo = try bodies.map { try s.completionText($0) }
        // All at once: send every request, then read every stream.
        let clients = try bodies.map { body -> TestClient in
            let c = try TestClient(port: s.port, receiveTimeout: 20)
            try c.request("POST", "/v1/completions", body: Array(body.utf8))
            return c
        }
        #expect(s.waitFor { s.engine.metrics.snapshot.batchSize.counts.dropFirst().reduce(0, +) > 0 })
        let together = try clients.map { c -> String in
            let r = try c.expectResponse()
            #expect(r.events.last == "[DONE]")
            return r.eventObjects.compactMap { ($0["choices"] as? [[String: Any]])?.first?["text"] as? String }.joined()
        }
        #expect(together == solo)
    }

    /// Sampled: six prompts in one request join the batch together (a fixed schedule), and each
    /// choice is what that prompt gives alone with the same seed.
    @Test func sampledBatchRequestMatchesSoloRequests() throws {
        let s = try TestServer()
        let prompts = ["Hello", "The engine", "One, two, three", "def greet(name):", "café", "It was a bright"]
        let list = "[" + prompts.map(jsonString).joined(separator: ",") + "]"
        let r = try s.post("/v1/completions", "{\"prompt\":\(list),\"max_tokens\":40,\"seed\":7,\"temperature\":0.8,\"ignore_eos\":true}")
        let together = try #require(r.json["choices"] as? [[String: Any]]).compactMap { $0["text"] as? String }
        let solo = try prompts.map { try s.completionText("{\"prompt\":\(jsonString($0)),\"max_tokens\":40,\"seed\":7,\"temperature\":0.8,\"ignore_eos\":true}") }
        #expect(together == solo)
    }

    /// More requests than batch slots: they queue, all complete, and the engine ends empty (no
    /// leaked slot: a full-capacity request is accepted afterwards).
    @Test func moreRequestsThanSlotsAllComplete() throws {
        var api = APIConfigurationForTests.short
        api.maxChoices = 32
        let s = try TestServer(engine: .init(maxRunning: 4, maxWaiting: 28), api: api)
        let clients = try (0..<32).map { i -> TestClient in
            let c = try TestClient(port: s.port, receiveTimeout: 20)
            let stream = i % 2 == 0 ? "true" : "false"
            try c.request("POST", "/v1/completions", body: Array("{\"prompt\":\"Hi \(i)\",\"max_tokens\":12,\"seed\":\(i),\"ignore_eos\":true,\"stream\":\(stream)}".utf8))
            return c
        }
        for c in clients { #expect(try c.expectResponse().status == 200) }
        #expect(s.waitFor { s.engine.metrics.snapshot.running == 0 && s.engine.metrics.snapshot.waiting == 0 })
        #expect(s.engine.metrics.snapshot.finished == 32)
        #expect(s.engine.metrics.snapshot.batchSize.counts[2] > 0)   // batches of 3-4 happened
        // Exactly the whole capacity (4 running + 28 waiting): accepted only if nothing leaked.
        #expect(try s.post("/v1/completions", #"{"prompt":"a","n":32,"max_tokens":1}"#).status == 200)
        #expect(try s.post("/v1/completions", #"{"prompt":"a","n":32,"max_tokens":1}"#).status == 200)
    }
}

/// `StreamClock`: the period held events leave on grows with the streams open, up to a cap.
@Suite struct StreamClockTests {
    @Test func periodGrowsWithOpenStreamsUpToTheCap() {
        let clock = StreamClock(interval: 0.005, maxInterval: 0.05)
        #expect(clock.periodNanos == 5_000_000)
        var periods: [UInt64] = []
        for _ in 1...48 {
            clock.streamOpened()
            periods.append(clock.periodNanos / 1_000_000)
        }
        // 1-2 streams: 5 ms; 3-4: 10; 15-16: 40; from 19 on: the 50 ms cap.
        #expect(periods[0] == 5 && periods[1] == 5 && periods[2] == 10 && periods[3] == 10)
        #expect(periods[15] == 40 && periods[16] == 45 && periods[17] == 45 && periods[18] == 50 && periods[47] == 50)
        for _ in 1...48 { clock.streamClosed() }
        #expect(clock.openStreams == 0 && clock.periodNanos == 5_000_000)
    }

    @Test func noIntervalMeansEveryEventAtOnce() {
        let clock = StreamClock(interval: 0, maxInterval: 0.05)
        for _ in 0..<10 { clock.streamOpened() }
        #expect(clock.periodNanos == 0)
        #expect(clock.isNewTick(1, since: 1))
    }

    @Test func anIntervalAboveTheCapStaysFixed() {
        let clock = StreamClock(interval: 0.2, maxInterval: 0.05)
        for _ in 0..<20 { clock.streamOpened() }
        #expect(clock.periodNanos == 200_000_000)
    }

    @Test func ticksAreSharedMultiplesOfThePeriod() {
        let clock = StreamClock(interval: 0.005, maxInterval: 0.05)
        #expect(!clock.isNewTick(5_000_001, since: 9_999_999))
        #expect(clock.isNewTick(10_000_000, since: 9_999_999))
        for _ in 0..<4 { clock.streamOpened() }   // period 10 ms
        #expect(!clock.isNewTick(15_000_000, since: 10_000_000))
        #expect(clock.isNewTick(20_000_000, since: 19_000_000))
    }
}

extension StreamClockTests {
    /// Over real sockets: six open streams stretch the period to 15 ms (on /metrics), and every
    /// stream stops counting when it ends, whether it finished, its client went away, or it
    /// failed before its head was sent.
    @Test func openStreamsAreCountedUntilTheyEnd() throws {
        let s = try TestServer(engine: .init(minimumStepSeconds: 0.005))
        let body = Array(#"{"prompt":"Hello","max_tokens":300,"ignore_eos":true,"stream":true}"#.utf8)
        let clients = try (0..<6).map { _ -> TestClient in
            let c = try TestClient(port: s.port, receiveTimeout: 20)
            try c.request("POST", "/v1/completions", body: body)
            #expect(try c.expectHead().status == 200)
            return c
        }
        #expect(s.api.streamClock.openStreams == 6)
        let metrics = try s.call("GET", "/metrics").text
        #expect(metrics.contains("dlcm_open_streams 6"))
        #expect(metrics.contains("dlcm_stream_interval_seconds 0.015"))
        // Two clients go away; the others read to the end.
        clients[0].close()
        clients[1].close()
        for c in clients.dropFirst(2) {
            var last: [UInt8] = []
            while let chunk = try c.readChunk() { if !chunk.isEmpty { last = chunk } }
            #expect(String(decoding: last.suffix(14), as: UTF8.self) == "data: [DONE]\n\n")
            c.close()
        }
        // A stream refused before its head (max_tokens beyond the context) never holds a count.
        #expect(try s.post("/v1/completions", #"{"prompt":"Hello","max_tokens":100000,"stream":true}"#).status == 400)
        #expect(s.waitFor { s.api.streamClock.openStreams == 0 })
        #expect(try s.call("GET", "/metrics").text.contains("dlcm_stream_interval_seconds 0.005"))
    }

    /// A stream the engine's full queue turns away (429) stops counting at once.
    @Test func aStreamRefusedByAFullQueueIsNotCounted() throws {
        let s = try TestServer(engine: .init(maxRunning: 1, maxWaiting: 0, minimumStepSeconds: 0.005))
        let body = Array(#"{"prompt":"Hello","max_tokens":300,"ignore_eos":true,"stream":true}"#.utf8)
        let running = try TestClient(port: s.port, receiveTimeout: 20)
        try running.request("POST", "/v1/completions", body: body)
        #expect(try running.expectHead().status == 200)
        for _ in 0..<3 {
            #expect(try s.post("/v1/completions", String(decoding: body, as: UTF8.self)).status == 429)
        }
        #expect(s.waitFor { s.api.streamClock.openStreams == 1 })
        running.close()
        #expect(s.waitFor { s.api.streamClock.openStreams == 0 })
    }
}
