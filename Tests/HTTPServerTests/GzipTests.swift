import Foundation
import Testing
@testable import HTTPServer
import TestSupport

@Suite("Accept-Encoding negotiation")
struct AcceptEncodingTests {
    @Test(arguments: [
        ("gzip", true),
        ("gzip, deflate, br", true),
        ("GZIP", true),
        ("x-gzip", true),
        ("deflate, gzip;q=1.0", true),
        ("br;q=1, gzip;q=0.8, *;q=0.1", true),
        ("*", true),
        ("gzip;q=0.5, identity;q=0.5", true),  // a tie goes to the smaller body
        ("gzip ; q=0.001", true),
        ("gzip;q=0.8, br", true),
        ("*;q=0.5, identity;q=0.2", true),
        ("", false),
        ("identity", false),
        ("deflate, br", false),
        ("gzip;q=0", false),
        ("gzip;q=0.000", false),
        ("*, gzip;q=0", false),  // the explicit refusal beats the wildcard
        ("gzip;q=0.5, identity", false),  // identity (q=1) rated higher
        ("*;q=0.5, identity", false),
        ("*;q=0", false),
        ("gzip;q=2", false),  // malformed q-values refuse
        ("gzip;q=0.12345", false),
        ("gzip;q=abc", false),
    ])
    func negotiates(header: String, gzip: Bool) {
        #expect(AcceptEncoding.prefersGzip([header]) == gzip, "\(header)")
    }

    @Test func noHeaderMeansIdentity() {
        #expect(!AcceptEncoding.prefersGzip([]))
        #expect(AcceptEncoding.prefersGzip(["deflate", "gzip"]))  // repeated fields combine
    }

    @Test func compressibleTypes() {
        for type in ["application/json", "application/json; charset=utf-8", "Application/JSON", "text/plain; version=0.0.4",
                     "text/html", "application/problem+json", "application/javascript", "application/x-ndjson"] {
            #expect(ResponseCompression.isCompressible(type), "\(type)")
        }
        for type in ["image/png", "application/octet-stream", "text/event-stream", "application/gzip", "", "json"] {
            #expect(!ResponseCompression.isCompressible(type), "\(type)")
        }
    }

    @Test func roundTripsThroughSystemGzip() throws {
        let input = Array(String(repeating: "{\"token\":\"hello\"}", count: 500).utf8)
        let compressed = try #require(Gzip.compress(input))
        #expect(compressed.count < input.count / 10)
        #expect(try gunzip(compressed) == input)
        #expect(try gunzip(try #require(Gzip.compress([]))) == [])
    }
}

/// The system's gzip, so the server's output is checked by an implementation it does not share.
func gunzip(_ bytes: [UInt8]) throws -> [UInt8] {
    let result = try runTool("/bin/gzip", ["-dc"], stdin: Data(bytes))
    guard result.status == 0 else { throw TestClientError(description: "gzip -d: \(result.stderr)") }
    return [UInt8](result.stdout)
}

@Suite("gzip responses over real sockets")
struct GzipServerTests {
    /// A JSON document well over the 1 KiB threshold.
    static let json: [UInt8] = Array(("{\"data\":[" + (0..<200).map { "{\"id\":\($0),\"text\":\"token \($0)\"}" }.joined(separator: ",") + "]}").utf8)

    static let handler: HTTPHandler = { request, responder in
        switch request.path {
        case "/json": responder.respond(status: .ok, headers: ["Content-Type": "application/json"], body: json)
        case "/small": responder.respond(status: .ok, headers: ["Content-Type": "application/json"], body: Array(#"{"ok":true}"#.utf8))
        case "/png": responder.respond(status: .ok, headers: ["Content-Type": "image/png"], body: json)
        case "/vary": responder.respond(status: .ok, headers: ["Content-Type": "application/json", "Vary": "Origin"], body: json)
        case "/sse":
            responder.startStream(status: .ok, headers: ["Content-Type": "text/event-stream"])
            for i in 0..<50 { responder.write("data: " + String(repeating: "token\(i) ", count: 20) + "\n\n") }
            responder.finish()
        default: responder.respond(status: .notFound)
        }
    }

    func get(_ client: TestClient, _ path: String, acceptEncoding: String?, method: String = "GET") throws -> TestResponse {
        let ae = acceptEncoding.map { "Accept-Encoding: \($0)\r\n" } ?? ""
        try client.send("\(method) \(path) HTTP/1.1\r\nHost: x\r\n\(ae)\r\n")
        return try #require(try client.readResponse(isHead: method == "HEAD"))
    }

    @Test func jsonIsGzippedWhenAccepted() throws {
        try withServer(handler: Self.handler) { server in
            let client = try TestClient(port: server.port)
            let response = try get(client, "/json", acceptEncoding: "gzip, deflate")
            #expect(response.headers["Content-Encoding"] == "gzip")
            #expect(response.headers["Vary"] == "Accept-Encoding")
            #expect(response.headers["Content-Length"] == String(response.body.count))
            #expect(response.body.count < Self.json.count / 3)
            #expect(try gunzip(response.body) == Self.json)
            // HEAD says what GET would send: the same encoding and length, no body.
            let head = try get(client, "/json", acceptEncoding: "gzip", method: "HEAD")
            #expect(head.headers["Content-Encoding"] == "gzip")
            #expect(head.headers["Content-Length"] == String(response.body.count))
        }
    }

    @Test func identityWhenRefusedSmallOrNotCompressible() throws {
        try withServer(handler: Self.handler) { server in
            let client = try TestClient(port: server.port)
            for (path, ae) in [("/json", nil), ("/json", "gzip;q=0"), ("/json", "identity"), ("/small", "gzip"), ("/png", "gzip")] as [(String, String?)] {
                let response = try get(client, path, acceptEncoding: ae)
                #expect(response.status == 200)
                #expect(response.headers["Content-Encoding"] == nil, "\(path) \(ae ?? "-")")
                #expect(response.headers["Content-Length"] == String(response.body.count))
                if path != "/small" { #expect(response.body == Self.json) }
            }
            // Vary tells caches the JSON depends on Accept-Encoding even when sent as is;
            // the small body and the PNG do not.
            #expect(try get(client, "/json", acceptEncoding: "gzip;q=0").headers["Vary"] == "Accept-Encoding")
            #expect(try get(client, "/small", acceptEncoding: "gzip").headers["Vary"] == nil)
            // A handler's own Vary is kept.
            #expect(try get(client, "/vary", acceptEncoding: "gzip").headers["Vary"] == "Origin, Accept-Encoding")
        }
    }

    @Test func streamsStayUncompressed() throws {
        try withServer(handler: Self.handler) { server in
            let client = try TestClient(port: server.port)
            let response = try get(client, "/sse", acceptEncoding: "gzip")
            #expect(response.headers["Content-Encoding"] == nil)
            #expect(response.headers["Transfer-Encoding"] == "chunked")
            #expect(response.chunks == 50)
            #expect(response.bodyText.hasPrefix("data: token0 token0 "))
        }
    }

    @Test func thresholdIsConfigurable() throws {
        let body = Array(String(repeating: #"{"a":1}"#, count: 20).utf8)  // 140 bytes
        let handler: HTTPHandler = { _, responder in
            responder.respond(status: .ok, headers: ["Content-Type": "application/json"], body: body)
        }
        for (minimum, gzipped) in [(1024, false), (141, false), (140, true)] {
            try withServer(ServerConfiguration(gzipMinimumBytes: minimum), handler: handler) { server in
                let client = try TestClient(port: server.port)
                let response = try get(client, "/", acceptEncoding: "gzip")
                #expect((response.headers["Content-Encoding"] == "gzip") == gzipped, "minimum \(minimum)")
                #expect(try (gzipped ? gunzip(response.body) : response.body) == body)
            }
        }
    }

    @Test func switchedOff() throws {
        try withServer(ServerConfiguration(gzip: false), handler: Self.handler) { server in
            let client = try TestClient(port: server.port)
            let response = try get(client, "/json", acceptEncoding: "gzip")
            #expect(response.headers["Content-Encoding"] == nil)
            #expect(response.headers["Vary"] == nil)
            #expect(response.body == Self.json)
        }
    }

    @Test(.enabled(if: toolTestsEnabled(curlPath)))
    func curlCompressedGetsIdenticalJSON() throws {
        try withServer(handler: Self.handler) { server in
            let url = "http://127.0.0.1:\(server.port)/json"
            let compressed = try runTool(curlPath, ["-sS", "--max-time", "10", "--compressed", "-D", "/dev/stderr", url])
            #expect(compressed.status == 0)
            #expect(compressed.stderr.lowercased().contains("content-encoding: gzip"))
            #expect([UInt8](compressed.stdout) == Self.json)
            let plain = try runTool(curlPath, ["-sS", "--max-time", "10", url])
            #expect(plain.stdout == compressed.stdout)
        }
    }

    @Test(.enabled(if: haveTLSTools))
    func gzipOverTLS() throws {
        try withTLSServer(handler: Self.handler) { server, cert in
            let url = "https://127.0.0.1:\(server.port)/json"
            let result = try curlTLS(cert, ["--compressed", "-D", "/dev/stderr", url])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.lowercased().contains("content-encoding: gzip"))
            #expect([UInt8](result.stdout) == Self.json)
        }
    }
}
