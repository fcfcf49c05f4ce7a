import DLCMEngine
import DLCMServer
import Foundation
import HTTPServer
import Testing
import TestSupport

/// A stopped server frees its engine, model and connections: nothing keeps them alive in a cycle
/// (LeakSanitizer reported each test server's model as leaked before this was fixed).
@Suite struct LifetimeTests {
    @Test func stoppedServerIsFreed() throws {
        weak var api: APIServer?
        weak var engine: Engine?
        do {
            let s = try TestServer()
            api = s.api
            engine = s.engine
        }
        #expect(api == nil, "APIServer still alive after stop")
        #expect(engine == nil, "Engine still alive after stop")
    }

    @Test func stoppedServerIsFreedAfterRequests() throws {
        weak var api: APIServer?
        weak var engine: Engine?
        do {
            let s = try TestServer()
            api = s.api
            engine = s.engine
            #expect(try s.post("/v1/completions", #"{"prompt":"Hi","max_tokens":2}"#).status == 200)
            #expect(try s.post("/v1/completions", #"{"prompt":"Hi","max_tokens":2,"stream":true}"#).status == 200)
            #expect(try s.post("/v1/completions", #"{"prompt":"Hi","temperature":-1}"#).status == 400)
            // A client that hangs up mid-stream.
            let client = try TestClient(port: s.port, receiveTimeout: 20)
            try client.request("POST", "/v1/completions", body: Array(#"{"prompt":"Hi","max_tokens":200,"ignore_eos":true,"stream":true}"#.utf8))
            #expect(try client.expectHead().status == 200)
            _ = try client.readChunk()
            client.close()
            #expect(s.waitFor { s.engine.metrics.snapshot.running == 0 })
        }
        #expect(api == nil, "APIServer still alive after stop")
        #expect(engine == nil, "Engine still alive after stop")
    }
}
