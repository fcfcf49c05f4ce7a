@testable import DLCMServer
import Foundation
import Logging
import Testing
import TestSupport

@Suite struct RequestLogTests {
    static func server(_ capture: LogCapture, prompts: Bool = false, stall: Double? = nil) throws -> TestServer {
        var api = APIConfigurationForTests.short
        api.logger = capture.logger
        api.logPrompts = prompts
        if let stall { api.stallSeconds = stall }
        return try TestServer(api: api)
    }

    @Test func oneLinePerCompletionWithTokensTTFTAndFinishReason() throws {
        let capture = LogCapture()
        let s = try Self.server(capture)
        for stream in [false, true] {
            let id = "log-\(stream)"
            let r = try s.call("POST", "/v1/completions", json: #"{"prompt":"secret words","max_tokens":4,"ignore_eos":true,"stream":\#(stream)}"#,
                               headers: [("X-Request-Id", id)])
            #expect(r.status == 200)
            #expect(r.headers["X-Request-Id"] == id)
            let line = try #require(capture.request(id: id))
            let f = LogCapture.fields(line)
            #expect(line.contains(" info request "))
            #expect(f["method"] == "POST")
            #expect(f["route"] == "/v1/completions")
            #expect(f["status"] == "200")
            #expect(f["prompt_tokens"] == String(sharedBundle.tokenizer.encode("secret words", parseSpecial: false).count))
            #expect(f["completion_tokens"] == "4")
            #expect(f["finish_reason"] == "length")
            let ttft = try #require(f["ttft_ms"].flatMap(Double.init)), duration = try #require(f["duration_ms"].flatMap(Double.init))
            #expect(ttft >= 0 && ttft <= duration)
            #expect(!line.contains("secret"))   // no prompt text without --log-prompts
        }
        #expect(capture.requests.filter { $0.contains("route=/v1/completions") }.count == 2)
    }

    @Test func promptsAreLoggedOnlyWhenAskedFor() throws {
        let capture = LogCapture()
        let s = try Self.server(capture, prompts: true)
        _ = try s.call("POST", "/v1/completions", json: #"{"prompt":"say \"hi\" now","max_tokens":1}"#, headers: [("X-Request-Id", "p1")])
        let line = try #require(capture.request(id: "p1"))
        #expect(LogCapture.fields(line)["prompt"] == #"say "hi" now"#)
        _ = try s.call("POST", "/v1/segment", json: #"{"text":"segment me"}"#, headers: [("X-Request-Id", "p2")])
        #expect(LogCapture.fields(try #require(capture.request(id: "p2")))["prompt"] == "segment me")
    }

    @Test(arguments: ["", String(repeating: "x", count: 129), "has space", "tab\there", "caf\u{e9}"])
    func insaneIncomingIdsAreReplaced(incoming: String) throws {
        let capture = LogCapture()
        let s = try Self.server(capture)
        let client = try TestClient(port: s.port, receiveTimeout: 20)
        // Raw bytes: the test client writes the header value as given (UTF-8 for the last case).
        try client.request("GET", "/health", headers: [("X-Request-Id", incoming)])
        let r = try client.expectResponse()
        let id = try #require(r.headers["X-Request-Id"])
        #expect(id != incoming)
        #expect(RequestID.isSane(id))
        #expect(capture.request(id: id) != nil)
    }

    /// Answered probes and scrapes are logged at debug (they would drown the request lines);
    /// the same routes refused, and every other route, at info.
    @Test func probesAreLoggedAtDebug() throws {
        let capture = LogCapture()
        let s = try Self.server(capture)
        for path in ["/health", "/ready", "/metrics"] {
            _ = try s.call("GET", path, headers: [("X-Request-Id", "probe\(path)")])
            #expect(try #require(capture.request(id: "probe\(path)")).contains(" debug request "), "\(path)")
        }
        _ = try s.call("DELETE", "/health", headers: [("X-Request-Id", "refused")])
        #expect(try #require(capture.request(id: "refused")).contains(" info request "))
        _ = try s.call("GET", "/v1/models", headers: [("X-Request-Id", "models")])
        #expect(try #require(capture.request(id: "models")).contains(" info request "))
    }

    @Test func saneIncomingIdIsKeptUpTo128Characters() throws {
        let s = try Self.server(LogCapture())
        let id = String(repeating: "a", count: 127) + "Z"
        #expect(try s.call("GET", "/health", headers: [("X-Request-Id", id)]).headers["X-Request-Id"] == id)
    }

    @Test func everyAnswerCarriesAnId() throws {
        let s = try Self.server(LogCapture())
        let answers = [
            try s.call("GET", "/nope"), try s.call("DELETE", "/v1/models"), try s.post("/v1/completions", "{"),
            try s.call("POST", "/v1/completions", json: "{}", contentType: "text/plain"),
            try s.post("/v1/completions", #"{"prompt":"a","max_tokens":2,"stream":true}"#),
        ]
        #expect(answers.map(\.status) == [404, 405, 400, 415, 200])
        let ids = answers.compactMap { $0.headers["X-Request-Id"] }
        #expect(ids.count == answers.count)
        #expect(Set(ids).count == ids.count)
    }

    @Test func serverErrorsAreLoggedAtErrorLevel() throws {
        // A stall threshold of 0 makes /health answer 503: the line must be at error level.
        let capture = LogCapture()
        let s = try Self.server(capture, stall: 0)
        #expect(try s.call("GET", "/health", headers: [("X-Request-Id", "h503")]).status == 503)
        let line = try #require(capture.request(id: "h503"))
        #expect(line.contains(" error request "))
        #expect(try s.call("GET", "/ready", headers: [("X-Request-Id", "r200")]).status == 200)
        #expect(try #require(capture.request(id: "r200")).contains(" debug request "))   // an answered probe
    }

    @Test func jsonLinesParse() throws {
        let capture = LogCapture(format: .json)
        let s = try Self.server(capture)
        _ = try s.call("POST", "/v1/completions", json: #"{"prompt":"a","max_tokens":2,"ignore_eos":true}"#, headers: [("X-Request-Id", "j1")])
        let line = try #require(capture.request(id: "j1"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["level"] as? String == "info")
        #expect(object["msg"] as? String == "request")
        #expect(object["status"] as? Int == 200)
        #expect(object["completion_tokens"] as? Int == 2)
        #expect(object["duration_ms"] is Double || object["duration_ms"] is Int)
        #expect((object["ts"] as? String)?.hasSuffix("Z") == true)
    }
}
