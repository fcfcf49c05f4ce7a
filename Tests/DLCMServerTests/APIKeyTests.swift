@testable import DLCMServer
import Foundation
import Testing

@Suite struct APIKeyTests {
    static func server(keys: [String], open: Set<String>? = nil) throws -> TestServer {
        var api = APIConfiguration()
        api.apiKeys = APIKeys(keys)
        if let open { api.openEndpoints = open }
        return try TestServer(api: api)
    }

    @Test func missingKeyIs401InOpenAIShape() throws {
        let s = try Self.server(keys: ["sk-one"])
        let r = try s.call("GET", "/v1/models")
        #expect(r.status == 401)
        #expect(r.headers["WWW-Authenticate"] == "Bearer")
        #expect(r.error["type"] as? String == "invalid_request_error")
        #expect(r.error["code"] as? String == "invalid_api_key")
        #expect(r.error.keys.contains("param"))
        #expect((r.error["message"] as? String)?.contains("Missing") == true)
        #expect(r.headers["X-Request-Id"] != nil)
    }

    @Test(arguments: ["Bearer sk-onf", "Bearer sk-on", "Bearer sk-one1", "Basic c2stb25l", "Bearer ", "sk-one", "Bearersk-one"])
    func wrongKeyIs401(authorization: String) throws {
        let s = try Self.server(keys: ["sk-one", "sk-two"])
        let r = try s.call("POST", "/v1/completions", json: #"{"prompt":"a","max_tokens":1}"#, headers: [("Authorization", authorization)])
        #expect(r.status == 401)
        #expect(r.error["code"] as? String == "invalid_api_key")
        #expect(r.headers["WWW-Authenticate"] == "Bearer")
    }

    @Test(arguments: ["Bearer sk-one", "Bearer sk-two", "bearer sk-two", "BEARER   sk-one"])
    func rightKeyPasses(authorization: String) throws {
        let s = try Self.server(keys: ["sk-one", "sk-two"])
        let r = try s.call("POST", "/v1/completions", json: #"{"prompt":"a","max_tokens":1}"#, headers: [("Authorization", authorization)])
        #expect(r.status == 200)
        #expect(r.json["object"] as? String == "text_completion")
    }

    @Test func probesAreOpenByDefaultAndEverythingElseIsNot() throws {
        let s = try Self.server(keys: ["k"])
        for path in ["/health", "/ready", "/metrics"] { #expect(try s.call("GET", path).status == 200, "\(path)") }
        for path in ["/v1/models", "/v1/models/tiny-served"] { #expect(try s.call("GET", path).status == 401, "\(path)") }
        for path in ["/v1/completions", "/v1/segment", "/v1/tokenize", "/v1/detokenize"] {
            #expect(try s.post(path, "{}").status == 401, "\(path)")
        }
        // Unknown paths do not reveal the route table to a caller without a key.
        #expect(try s.call("GET", "/nope").status == 401)
        #expect(try s.call("GET", "/nope", headers: [("Authorization", "Bearer k")]).status == 404)
    }

    @Test func openEndpointsAreConfigurable() throws {
        let s = try Self.server(keys: ["k"], open: ["/v1/models"])
        #expect(try s.call("GET", "/v1/models").status == 200)
        #expect(try s.call("GET", "/health").status == 401)
        #expect(try s.call("GET", "/metrics").status == 401)
    }

    @Test func noKeysMeansNoAuthentication() throws {
        let s = try Self.server(keys: [])
        #expect(try s.call("GET", "/v1/models").status == 200)
    }

    @Test func rejectedRequestsAreCountedAndLogged() throws {
        let capture = LogCapture()
        var api = APIConfiguration()
        api.apiKeys = APIKeys(["k"])
        api.logger = capture.logger
        let s = try TestServer(api: api)
        let r = try s.call("GET", "/v1/models", headers: [("X-Request-Id", "auth-1")])
        #expect(r.status == 401)
        let line = try #require(capture.request(id: "auth-1"))
        #expect(LogCapture.fields(line)["status"] == "401")
        #expect(!line.contains("Bearer"))
        #expect(try s.call("GET", "/metrics").text.contains(#"dlcm_http_requests_total{route="/v1/models",status="401"} 1"#))
    }

    // MARK: comparison and loading

    @Test func constantTimeEqualsComparesWholeInputs() {
        let eq = APIKeys.constantTimeEquals
        #expect(eq(Array("abc".utf8), Array("abc".utf8)))
        #expect(!eq(Array("abc".utf8), Array("abd".utf8)))
        #expect(!eq(Array("xbc".utf8), Array("abc".utf8)))
        #expect(!eq(Array("abc".utf8), Array("abc\0".utf8)))   // a zero past the end still differs by length
        #expect(!eq(Array("abc".utf8), Array("ab".utf8)))
        #expect(!eq([], Array("a".utf8)))
        #expect(eq([], []))
        // Lengths that differ by a multiple of 256 still differ.
        #expect(!eq([UInt8](repeating: 0, count: 256), []))
    }

    @Test func bearerTokenParsing() {
        #expect(APIKeys.bearerToken("Bearer abc") == Array("abc".utf8))
        #expect(APIKeys.bearerToken("bEaReR abc") == Array("abc".utf8))
        #expect(APIKeys.bearerToken("Bearer") == nil)
        #expect(APIKeys.bearerToken("Bearer    ") == nil)
        #expect(APIKeys.bearerToken("Bearer\0abc") == nil)
        #expect(APIKeys.bearerToken("Token abc") == nil)
        #expect(APIKeys.bearerToken(nil) == nil)
    }

    @Test func listAndFileAreMerged() throws {
        let file = try temporaryFile("# production keys\nsk-file-1\n\n   sk-file-2  \n# old: sk-revoked\nsk-list\n")
        let keys = try APIKeys.load(list: " sk-list , sk-other,,", file: file)
        #expect(Set(keys.keys.map { String(decoding: $0, as: UTF8.self) }) == ["sk-list", "sk-other", "sk-file-1", "sk-file-2"])
        #expect(keys.keys.count == 4)   // duplicates kept once
        #expect(!keys.accepts(authorization: "Bearer sk-revoked"))
        #expect(!keys.accepts(authorization: "Bearer # old: sk-revoked"))
    }

    @Test func emptyOrUnreadableFileIsAnError() throws {
        let empty = try temporaryFile("# nothing but comments\n\n")
        #expect(throws: ConfigurationError.self) { try APIKeys.load(list: "k", file: empty) }
        #expect(throws: ConfigurationError.self) { try APIKeys.load(list: nil, file: "/nonexistent/keys.txt") }
        #expect(throws: ConfigurationError.self) { try APIKeys.load(list: "has space", file: nil) }
        #expect(try APIKeys.load(list: nil, file: nil).isEmpty)
    }
}

/// A file with `text` in the temporary directory; its path.
func temporaryFile(_ text: String, name: String = UUID().uuidString) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("dlcm-test-\(name)").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}
