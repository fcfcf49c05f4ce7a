@testable import DLCMServer
import Foundation
import Locking
import HTTPServer
import Testing
import TestSupport

/// /health and /ready answered on the event loop (`ProbeAnswers.swift`): the same answer as the
/// route gives through an exchange (status, headers in order, body), counted and logged as such,
/// and the general path for what they cannot answer (CORS, a key required, other methods).
@Suite struct ProbeAnswerTests {
    @Test func probesAnswerLikeTheirRoutes() throws {
        let capture = LogCapture()
        var api = APIConfiguration()
        api.logger = capture.logger   // at trace: the probes' debug lines are kept
        let s = try TestServer(api: api)
        for (path, method) in [("/health", "GET"), ("/ready", "GET"), ("/health", "HEAD"), ("/ready?probe=1", "GET")] {
            // The head the general path writes for these routes: Date, Content-Type, the
            // request id, Content-Length.
            let r = try s.call(method, path, headers: [("X-Request-Id", "probe-1")])
            #expect(r.status == 200)
            #expect(r.headers.map(\.name) == ["Date", "Content-Type", "X-Request-Id", "Content-Length"])
            #expect(r.headers["X-Request-Id"] == "probe-1")
            if method == "HEAD" { #expect(r.body.isEmpty) } else { #expect(r.json["status"] as? String == (path.hasPrefix("/health") ? "ok" : "ready")) }
        }
        // A generated id when the client sends none (or an insane one).
        let generated = try s.call("GET", "/health", headers: [("X-Request-Id", "bad id")]).headers["X-Request-Id"] ?? ""
        #expect(generated.hasPrefix("req_") && generated.count == 36 && generated.dropFirst(4).allSatisfy(\.isHexDigit))
        // Counted per route and status, logged at debug with the route and id.
        let metrics = try s.call("GET", "/metrics").text
        #expect(metrics.contains(#"dlcm_http_requests_total{route="/health",status="200"} 3"#))
        #expect(metrics.contains(#"dlcm_http_requests_total{route="/ready",status="200"} 2"#))
        #expect(metrics.contains(#"dlcm_http_request_duration_seconds_count{route="/health"} 3"#))
        let line = try #require(capture.request(id: "probe-1"))
        #expect(line.contains(" debug request ") && line.contains("route=/health") && line.contains("status=200"))
    }

    /// What the quick path leaves to the general one: a CORS request (its headers), a probe that
    /// needs a key, other methods.
    @Test func theGeneralPathTakesTheRest() throws {
        var api = APIConfiguration()
        api.cors = try CORSPolicy("https://app.example")
        api.apiKeys = APIKeys(["sk-one"])
        api.openEndpoints = ["/health"]
        let s = try TestServer(api: api)
        let cors = try s.call("GET", "/health", headers: [("Origin", "https://app.example")])
        #expect(cors.status == 200 && cors.headers["Access-Control-Allow-Origin"] == "https://app.example")
        #expect(try s.call("GET", "/health").status == 200)
        #expect(try s.call("GET", "/ready").status == 401)   // not open: a key is needed
        #expect(try s.call("GET", "/ready", headers: [("Authorization", "Bearer sk-one")]).status == 200)
        #expect(try s.call("POST", "/health", json: "{}").status == 405)
    }
}

/// Generation requests are prepared (parsed, tokenized, templated, compiled) on the preparation
/// queue, not on the event loop: while one waits there, the loop keeps answering everything else.
@Suite struct PreparationQueueTests {
    @Test func theLoopAnswersWhilePreparationIsBusy() throws {
        let s = try TestServer()
        let release = DispatchSemaphore(value: 0)
        s.api.preparation.async { release.wait() }   // the queue is busy (as with a slow schema)
        let port = s.port
        let answered = DispatchSemaphore(value: 0)
        let status = Locked(0)
        Thread {
            let client = try? TestClient(port: port, receiveTimeout: 20)
            try? client?.request("POST", "/v1/completions", body: Array(#"{"prompt":"Hi","max_tokens":2}"#.utf8),
                                 contentType: "application/json", headers: [])
            status.withLock { $0 = (try? client?.expectResponse(isHead: false).status) ?? -1 }
            answered.signal()
        }.start()
        // The completion waits behind the busy queue; the loop serves probes, models, metrics.
        for path in ["/health", "/v1/models", "/metrics", "/ready"] { #expect(try s.call("GET", path).status == 200) }
        #expect(answered.wait(timeout: .now() + 0.2) == .timedOut)
        release.signal()
        #expect(answered.wait(timeout: .now() + 20) == .success)
        #expect(status.withLock { $0 } == 200)
    }
}
