@testable import DLCMServer
import Foundation
import Testing
import TestSupport

@Suite struct CORSTests {
    static let app = "https://app.example.com"

    static func server(_ origins: String?, keys: [String] = []) throws -> TestServer {
        var api = APIConfigurationForTests.short
        api.cors = try CORSPolicy(origins)
        api.apiKeys = APIKeys(keys)
        return try TestServer(api: api)
    }

    static func preflight(_ s: TestServer, origin: String?, path: String = "/v1/completions") throws -> TestResponse {
        var headers = [("Access-Control-Request-Method", "POST"), ("Access-Control-Request-Headers", "authorization, content-type")]
        if let origin { headers.append(("Origin", origin)) }
        return try s.call("OPTIONS", path, headers: headers)
    }

    @Test func preflightFromAnAllowedOriginNeedsNoKey() throws {
        let s = try Self.server("\(Self.app), https://other.example.com", keys: ["k"])
        let r = try Self.preflight(s, origin: Self.app)
        #expect(r.status == 204)
        #expect(r.headers["Access-Control-Allow-Origin"] == Self.app)
        #expect(r.headers["Vary"] == "Origin")
        #expect(r.headers["Access-Control-Allow-Methods"] == "POST, OPTIONS")
        let allowed = try #require(r.headers["Access-Control-Allow-Headers"]).lowercased()
        for h in ["authorization", "content-type", "x-request-id"] { #expect(allowed.contains(h)) }
        #expect(Int(r.headers["Access-Control-Max-Age"] ?? "") == CORSPolicy.maxAge)
        #expect(r.headers["X-Request-Id"] != nil)
    }

    @Test func preflightFromAnotherOriginIs403WithoutCORSHeaders() throws {
        let s = try Self.server(Self.app)
        for origin in ["https://evil.example.com", "https://app.example.com.evil.example", nil] {
            let r = try Self.preflight(s, origin: origin)
            #expect(r.status == 403)
            #expect(r.error["code"] as? String == "origin_not_allowed")
            #expect(r.headers["Access-Control-Allow-Origin"] == nil)
            #expect(r.headers["Access-Control-Allow-Methods"] == nil)
        }
    }

    @Test func answersCarryTheOriginForAListAndStarForAny() throws {
        let listed = try Self.server(Self.app, keys: ["k"])
        let ok = try listed.call("GET", "/v1/models", headers: [("Origin", Self.app), ("Authorization", "Bearer k")])
        #expect(ok.status == 200)
        #expect(ok.headers["Access-Control-Allow-Origin"] == Self.app)
        #expect(ok.headers["Access-Control-Expose-Headers"] == "X-Request-Id")
        #expect(ok.headers["Vary"] == "Origin")
        // A 401 still carries CORS headers, so the page can read why it was refused.
        let refused = try listed.call("GET", "/v1/models", headers: [("Origin", Self.app)])
        #expect(refused.status == 401)
        #expect(refused.headers["Access-Control-Allow-Origin"] == Self.app)
        let other = try listed.call("GET", "/v1/models", headers: [("Origin", "https://evil.example.com"), ("Authorization", "Bearer k")])
        #expect(other.headers["Access-Control-Allow-Origin"] == nil)

        let any = try Self.server("*")
        let r = try any.call("GET", "/health", headers: [("Origin", "https://anything.example")])
        #expect(r.headers["Access-Control-Allow-Origin"] == "*")
        #expect(r.headers["Vary"] == nil)
        #expect(try Self.preflight(any, origin: "http://localhost:3000").status == 204)
    }

    @Test func streamsCarryCORSHeaders() throws {
        let s = try Self.server(Self.app)
        let r = try s.call("POST", "/v1/completions", json: #"{"prompt":"a","max_tokens":3,"stream":true}"#, headers: [("Origin", Self.app)])
        #expect(r.status == 200)
        #expect(r.headers["Content-Type"] == "text/event-stream")
        #expect(r.headers["Access-Control-Allow-Origin"] == Self.app)
        #expect(r.headers["Access-Control-Expose-Headers"] == "X-Request-Id")
        #expect(r.events.last == "[DONE]")
    }

    @Test func offByDefault() throws {
        let s = try Self.server(nil)
        let r = try Self.preflight(s, origin: Self.app)
        #expect(r.status == 405)
        #expect(r.headers["Access-Control-Allow-Origin"] == nil)
        let get = try s.call("GET", "/health", headers: [("Origin", Self.app)])
        #expect(get.headers["Access-Control-Allow-Origin"] == nil)
        #expect(get.headers["Vary"] == nil)
    }

    @Test func policyParsing() throws {
        #expect(try CORSPolicy(nil) == .off)
        #expect(try CORSPolicy(" , ") == .off)
        #expect(try CORSPolicy("*") == .anyOrigin)
        #expect(try CORSPolicy("https://a.example, http://localhost:3000") == .origins(["https://a.example", "http://localhost:3000"]))
        for bad in ["a.example", "https://a.example/path", "*, https://a.example", "https://"] {
            #expect(throws: ConfigurationError.self, "\(bad)") { try CORSPolicy(bad) }
        }
    }
}
