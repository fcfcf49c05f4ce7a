import DLCMEngine
import Foundation
import HTTPServer
import Testing
import TestSupport

@Suite struct ErrorTests {
    @Test func invalidJSONIs400() throws {
        let s = try TestServer()
        let r = try s.post("/v1/completions", #"{"prompt": "#)
        #expect(r.status == 400)
        #expect(r.error["type"] as? String == "invalid_request_error")
        #expect((r.error["message"] as? String)?.contains("JSON") == true)
        #expect(try s.post("/v1/completions", "[1,2]").status == 400)
    }

    @Test(arguments: [
        (#"{"prompt":"a","temperature":-1}"#, "temperature"),
        (#"{"prompt":"a","top_p":0}"#, "top_p"),
        (#"{"prompt":"a","max_tokens":"x"}"#, "max_tokens"),
        (#"{"prompt":"a","max_tokens":100000}"#, "max_tokens"),
        (#"{"prompt":"a","n":99}"#, "n"),
        (#"{"prompt":"a","logprobs":50}"#, "logprobs"),
        (#"{"prompt":"a","stop":[1]}"#, "stop"),
        (#"{"prompt":"a","logit_bias":{"9999":1}}"#, "logit_bias"),
        (#"{"prompt":[5000]}"#, "prompt"),
        (#"{"prompt":{}}"#, "prompt"),
        (#"{"max_tokens":3}"#, "prompt"),
        (#"{"prompt":"a","stream":"yes"}"#, "stream"),
    ])
    func invalidParameterIs400NamingIt(body: String, param: String) throws {
        let s = try TestServer()
        let r = try s.post("/v1/completions", body)
        #expect(r.status == 400)
        #expect(r.error["param"] as? String == param)
    }

    @Test func promptThatCannotFitIs400() throws {
        let s = try TestServer()
        let long = String(repeating: "The quick brown fox. ", count: 60)   // > 512 tokens with max_tokens
        let r = try s.post("/v1/completions", "{\"prompt\":\(jsonString(long)),\"max_tokens\":16}")
        #expect(r.status == 400)
        #expect(r.error["code"] as? String == "context_length_exceeded")
        #expect((r.error["message"] as? String)?.contains("maximum context length is 512") == true)
        // The limit is the context minus max_tokens: a prompt that fits alone fails with a large max_tokens.
        let mid = try s.post("/v1/completions", #"{"prompt":"Hello","max_tokens":510}"#)
        #expect(mid.status == 400)
        #expect(try s.post("/v1/completions", #"{"prompt":"Hello","max_tokens":500,"ignore_eos":true}"#).status == 200)
    }

    @Test func streamingRequestErrorsKeepTheirStatus() throws {
        // Known before the first event, so a plain JSON error, not a 200 event stream.
        let s = try TestServer()
        let r = try s.post("/v1/completions", #"{"prompt":"a","stream":true,"temperature":-3}"#)
        #expect(r.status == 400)
        #expect(r.headers["Content-Type"] == "application/json")
        #expect(r.error["param"] as? String == "temperature")
    }

    @Test func unknownRouteAndModel() throws {
        let s = try TestServer()
        #expect(try s.call("GET", "/v1/nothing").status == 404)
        let r = try s.post("/v1/completions", #"{"model":"gpt-4","prompt":"a"}"#)
        #expect(r.status == 404)
        #expect(r.error["code"] as? String == "model_not_found")
        #expect(r.error["param"] as? String == "model")
    }

    @Test func wrongMethodIs405WithAllow() throws {
        let s = try TestServer()
        let r = try s.call("GET", "/v1/completions")
        #expect(r.status == 405)
        #expect(r.headers["Allow"] == "POST")
        #expect(try s.call("POST", "/v1/models", json: "{}").headers["Allow"] == "GET, HEAD")
    }

    @Test func bodyTooLargeIs413() throws {
        var http = ServerConfiguration()
        http.limits.maxBodyBytes = 1000
        let s = try TestServer(http: http)
        let r = try s.post("/v1/completions", "{\"prompt\":\(jsonString(String(repeating: "a", count: 2000)))}")
        #expect(r.status == 413)
        #expect(r.error["code"] as? String == "request_too_large")
    }

    @Test func nonJSONContentTypeIs415() throws {
        let s = try TestServer()
        let r = try s.call("POST", "/v1/completions", json: "prompt=a", contentType: "application/x-www-form-urlencoded")
        #expect(r.status == 415)
        #expect(try s.call("POST", "/v1/completions", json: #"{"prompt":"a","max_tokens":1}"#, contentType: "application/json; charset=utf-8").status == 200)
    }

    @Test func codedRequestBodyIs415WithTheAcceptedCoding() throws {
        let s = try TestServer()
        for path in ["/v1/completions", "/v1/tokenize", "/v1/segment"] {
            let r = try s.call("POST", path, json: #"{"prompt":"a","text":"a"}"#, headers: [("Content-Encoding", "gzip")])
            #expect(r.status == 415, "\(path)")
            #expect(r.error["code"] as? String == "unsupported_content_encoding")
            #expect(r.headers["Accept-Encoding"] == "identity")
        }
        let plain = try s.call("POST", "/v1/tokenize", json: #"{"text":"a"}"#, headers: [("Content-Encoding", "identity")])
        #expect(plain.status == 200)
    }

    @Test func absoluteFormTargetIsServed() throws {
        let s = try TestServer()
        let client = try TestClient(port: s.port, receiveTimeout: 20)
        try client.send(Array("GET http://example.test:8080/health HTTP/1.1\r\nHost: other\r\n\r\n".utf8))
        let r = try client.expectResponse()
        #expect(r.status == 200)
    }

    @Test func queueFullIs429WithRetryAfter() throws {
        // One batch slot and room for 3 waiting: a request with n=4 fills the engine for a while.
        let s = try TestServer(engine: .init(maxRunning: 1, maxWaiting: 3, minimumStepSeconds: 0.005))
        let busy = try TestClient(port: s.port, receiveTimeout: 20)
        try busy.request("POST", "/v1/completions", body: Array(#"{"prompt":"a","n":4,"max_tokens":100,"ignore_eos":true,"stream":true}"#.utf8))
        #expect(try busy.expectHead().status == 200)
        let r = try s.post("/v1/completions", #"{"prompt":"b","max_tokens":1}"#)
        #expect(r.status == 429)
        #expect(r.headers["Retry-After"] == "1")
        #expect(r.error["type"] as? String == "rate_limit_error")
    }

    @Test func drainingIs503() throws {
        let s = try TestServer()
        // Requests half sent before the drain: their connections are not idle, so they stay open
        // and are answered after it starts.
        let ready = try TestClient(port: s.port, receiveTimeout: 20), completion = try TestClient(port: s.port, receiveTimeout: 20)
        try ready.send(Array("GET /ready HTTP/1.1\r\nHost: x\r\n".utf8))
        let body = #"{"prompt":"a"}"#
        try completion.send(Array("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n{".utf8))
        usleep(50_000)
        #expect(s.api.drain(timeout: .milliseconds(1)) == false)
        try ready.send(Array("\r\n".utf8))
        #expect(try ready.expectResponse().status == 503)
        try completion.send(Array(body.utf8.dropFirst()))
        let r = try completion.expectResponse()
        #expect(r.status == 503)
        #expect(r.error["code"] as? String == "draining")
    }
}

@Suite struct EngineStoppedTests {
    @Test func completionsAfterTheEngineStoppedAre503() throws {
        let s = try TestServer()
        s.engine.stop()
        let r = try s.post("/v1/completions", #"{"prompt":"a","max_tokens":1}"#)
        #expect(r.status == 503)
        #expect(r.headers["Retry-After"] != nil)
    }
}
