import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HTTPServer
import Testing
import StrictJSON
import TestSupport

/// Hostile requests as raw bytes over real sockets: smuggling shapes, oversized parts, bad bytes,
/// absurd JSON. Each must get the right 4xx in the OpenAI error shape, and the server must still
/// answer a normal completion afterwards.
///
/// One server per test function, with limits small enough that the oversized cases are cheap to
/// send, and short body/header timeouts so that stalled cases end in a second, not ten.
@Suite struct HostileRequestTests {
    static func server() throws -> TestServer {
        var http = ServerConfiguration()
        http.limits = HTTPLimits(maxRequestLineLength: 1024, maxHeaderBytes: 4096, maxHeaderCount: 20,
                                 maxBodyBytes: 64 * 1024, maxChunkLineLength: 64)
        http.timeouts.header = .milliseconds(500)
        http.timeouts.body = .milliseconds(500)
        return try TestServer(http: http)
    }

    /// A POST with a correct head around `body`.
    static func post(_ body: [UInt8], path: String = "/v1/completions") -> [UInt8] {
        Array("POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
    }

    static func post(_ body: String, path: String = "/v1/completions") -> [UInt8] { post(Array(body.utf8), path: path) }

    /// Sends `bytes` on a fresh connection and reads one response.
    static func send(_ bytes: [UInt8], to server: TestServer) throws -> TestResponse {
        let client = try TestClient(port: server.port, receiveTimeout: 10)
        try client.send(bytes)
        return try client.expectResponse()
    }

    /// Checks status and error shape, then that a normal completion still works.
    static func expectRefused(_ bytes: [UInt8], status: Int, param: String? = nil, closes: Bool = false,
                              on server: TestServer, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let r = try send(bytes, to: server)
            #expect(r.status == status, "\(label): \(r.status) \(r.text)", sourceLocation: sourceLocation)
            #expect(r.headers["Content-Type"] == "application/json", "\(label)", sourceLocation: sourceLocation)
            let error = r.error
            #expect(error["message"] is String && error["type"] is String && error.keys.contains("param") && error.keys.contains("code"),
                    "\(label): not an OpenAI error: \(r.text)", sourceLocation: sourceLocation)
            if let param { #expect(error["param"] as? String == param, "\(label): \(r.text)", sourceLocation: sourceLocation) }
            if closes {
                #expect(r.headers["Connection"]?.lowercased() == "close", "\(label): connection kept open after a framing error",
                        sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("\(label): \(error)", sourceLocation: sourceLocation)
        }
        expectStillServes(server, label, sourceLocation: sourceLocation)
    }

    static func expectStillServes(_ server: TestServer, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let r = try send(post(#"{"prompt":"Hello","max_tokens":2,"temperature":0}"#), to: server)
            #expect(r.status == 200 && (r.json["choices"] as? [Any])?.count == 1, "after \(label): \(r.status) \(r.text)",
                    sourceLocation: sourceLocation)
        } catch {
            Issue.record("after \(label): \(error)", sourceLocation: sourceLocation)
        }
    }

    static let smuggling: [(String, String, Int)] = [
        ("CL+TE", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        ("TE+CL", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400),
        ("two different CLs", "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}x", 400),
        ("CL list that disagrees", "Content-Length: 2, 3\r\n\r\n{}x", 400),
        ("negative CL", "Content-Length: -1\r\n\r\n", 400),
        ("signed CL", "Content-Length: +2\r\n\r\n{}", 400),
        ("hex CL", "Content-Length: 0x2\r\n\r\n{}", 400),
        ("CL overflowing Int", "Content-Length: 99999999999999999999999\r\n\r\n", 400),
        ("space before colon", "Content-Length : 2\r\n\r\n{}", 400),
        ("obs-fold", "Content-Length: 2\r\nX-A: a\r\n b\r\n\r\n{}", 400),
        ("TE chunked twice", "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400),
        ("TE not ending in chunked", "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400),
        ("TE unknown coding", "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
        ("TE with vertical tab", "Transfer-Encoding: \u{0B}chunked\r\n\r\n0\r\n\r\n", 400),
        ("chunk size not hex", "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400),
        ("negative chunk size", "Transfer-Encoding: chunked\r\n\r\n-2\r\n{}\r\n0\r\n\r\n", 400),
        ("chunk size overflowing Int", "Transfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\n{}\r\n0\r\n\r\n", 400),
        ("chunk longer than its size", "Transfer-Encoding: chunked\r\n\r\n1\r\n{}\r\n0\r\n\r\n", 400),
        ("chunk size line too long", "Transfer-Encoding: chunked\r\n\r\n2;" + String(repeating: "e", count: 100) + "\r\n{}\r\n0\r\n\r\n", 400),
        ("chunk extension with a control byte", "Transfer-Encoding: chunked\r\n\r\n2;a=\u{01}\r\n{}\r\n0\r\n\r\n", 400),
        ("bare LF line ends", "Content-Length: 2\n\n{}", 400),
        ("bare CR", "Content-Length: 2\rX: y\r\n\r\n{}", 400),
        ("second Host", "Host: y\r\nContent-Length: 2\r\n\r\n{}", 400),
        ("NUL in a header value", "X-A: a\u{0}b\r\nContent-Length: 2\r\n\r\n{}", 400),
        ("control byte in a header value", "X-A: a\u{07}b\r\nContent-Length: 2\r\n\r\n{}", 400),
        ("DEL in a header name", "X\u{7F}A: b\r\nContent-Length: 2\r\n\r\n{}", 400),
        ("empty header name", ": b\r\nContent-Length: 2\r\n\r\n{}", 400),
    ]

    @Test func smugglingShapesAre4xxAndClose() throws {
        let s = try Self.server()
        for (label, rest, status) in Self.smuggling {
            let bytes = Array("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\(rest)".utf8)
            Self.expectRefused(bytes, status: status, closes: true, on: s, label)
        }
        // A request hidden in a body must not run, and the outer one is refused whole.
        let hidden = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
        let client = try TestClient(port: s.port, receiveTimeout: 5)
        try client.send(Array(hidden.utf8))
        #expect(try client.expectResponse().status == 400)
        #expect(throws: (any Error).self) { try client.expectResponse() }
    }

    @Test func malformedHeadsAre4xx() throws {
        let s = try Self.server()
        let cases: [(String, [UInt8], Int)] = [
            ("no Host", Array("GET /health HTTP/1.1\r\n\r\n".utf8), 400),
            ("HTTP/2.0", Array("GET /health HTTP/2.0\r\nHost: x\r\n\r\n".utf8), 505),
            ("lower-case version", Array("GET /health http/1.1\r\nHost: x\r\n\r\n".utf8), 400),
            ("two spaces in the request line", Array("GET  /health HTTP/1.1\r\nHost: x\r\n\r\n".utf8), 400),
            ("NUL in the target", Array("GET /he\u{0}alth HTTP/1.1\r\nHost: x\r\n\r\n".utf8), 400),
            ("invalid UTF-8 in the target", Array("GET /h".utf8) + [0xC3, 0x28] + Array(" HTTP/1.1\r\nHost: x\r\n\r\n".utf8), 400),
            ("a method with a slash", Array("G/T /health HTTP/1.1\r\nHost: x\r\n\r\n".utf8), 400),
            ("TE in HTTP/1.0", Array("POST /v1/completions HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".utf8), 400),
            ("only empty lines", Array(String(repeating: "\r\n", count: 20).utf8), 400),
            ("binary garbage", (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }, 400),
        ]
        for (label, bytes, status) in cases {
            Self.expectRefused(bytes, status: status, closes: true, on: s, label)
        }
        // obs-text (bytes >= 0x80) is legal in header values; invalid UTF-8 there must not crash
        // anything downstream, and the request is served.
        let body = #"{"prompt":"a","max_tokens":1}"#
        let latin = Array("POST /v1/completions HTTP/1.1\r\nHost: x\r\nX-Name: ".utf8) + [0xFF, 0xC3, 0x28, 0x80]
            + Array("\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
        #expect(try Self.send(latin, to: s).status == 200)
    }

    @Test func oversizedPartsAreTheirStatuses() throws {
        let s = try Self.server()
        let longTarget = "/v1/completions?" + String(repeating: "a", count: 2000)
        Self.expectRefused(Array("GET \(longTarget) HTTP/1.1\r\nHost: x\r\n\r\n".utf8), status: 414, closes: true, on: s, "long request line")
        let bigHeader = "X-Big: " + String(repeating: "b", count: 5000) + "\r\n"
        Self.expectRefused(Array("GET /health HTTP/1.1\r\nHost: x\r\n\(bigHeader)\r\n".utf8), status: 431, closes: true, on: s, "large header")
        let many = (0..<30).map { "X-\($0): v\r\n" }.joined()
        Self.expectRefused(Array("GET /health HTTP/1.1\r\nHost: x\r\n\(many)\r\n".utf8), status: 431, closes: true, on: s, "many headers")
        // Refused from the head alone: the client need not send a byte of the body.
        Self.expectRefused(Array("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n".utf8),
                           status: 413, closes: true, on: s, "huge Content-Length")
        var chunked = Array("POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        for _ in 0..<20 { chunked += Array("1000\r\n".utf8) + [UInt8](repeating: 0x20, count: 4096) + Array("\r\n".utf8) }
        Self.expectRefused(chunked, status: 413, closes: true, on: s, "chunked body over the limit")
        let hugeChunk = Array("POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7fffffffffffffff\r\n".utf8)
        Self.expectRefused(hugeChunk, status: 413, closes: true, on: s, "one huge chunk")
        // A body just under the limit (whitespace around a valid object) is fine.
        let padded = [UInt8](repeating: 0x20, count: 60 * 1024) + Array(#"{"prompt":"a","max_tokens":1}"#.utf8)
        #expect(try Self.send(Self.post(padded), to: s).status == 200)
    }

    @Test func truncatedBodiesTimeOutWith408() throws {
        let s = try Self.server()
        let cases: [(String, String)] = [
            ("truncated chunked body", "Transfer-Encoding: chunked\r\n\r\n10\r\n{\"prompt\""),
            ("chunked body without its last chunk", "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n"),
            ("chunked body without the final CRLF", "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n"),
            ("short fixed body", "Content-Length: 40\r\n\r\n{\"prompt\":"),
        ]
        for (label, rest) in cases {
            let bytes = Array("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\(rest)".utf8)
            Self.expectRefused(bytes, status: 408, closes: true, on: s, label)
        }
        Self.expectRefused(Array("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Len".utf8), status: 408, closes: true, on: s, "truncated head")
    }

    @Test func badBytesInJSONAre400() throws {
        let s = try Self.server()
        let cases: [(String, [UInt8])] = [
            ("invalid UTF-8 in a string", Array(#"{"prompt":""#.utf8) + [0xC3, 0x28, 0xFF] + Array(#""}"#.utf8)),
            ("overlong UTF-8 encoding", Array(#"{"prompt":""#.utf8) + [0xC0, 0xAF] + Array(#""}"#.utf8)),
            ("raw NUL in a string", Array(#"{"prompt":"a"#.utf8) + [0] + Array(#"b"}"#.utf8)),
            ("raw NUL between tokens", Array(#"{"prompt":"a",#.utf8) + [0] + Array(#""n":1}"#.utf8)),
            ("raw newline in a string", Array("{\"prompt\":\"a\nb\"}".utf8)),
            ("empty body", []),
            ("trailing garbage", Array(#"{"prompt":"a"} x"#.utf8)),
            ("two objects", Array(#"{"prompt":"a"}{"prompt":"b"}"#.utf8)),
            ("a bare string", Array(#""prompt""#.utf8)),
            ("single quotes", Array(#"{'prompt':'a'}"#.utf8)),
            ("NaN literal", Array(#"{"prompt":"a","temperature":NaN}"#.utf8)),
            ("Infinity literal", Array(#"{"prompt":"a","temperature":Infinity}"#.utf8)),
            ("unterminated", Array(#"{"prompt":"a"#.utf8)),
            ("lone surrogate escape", Array(#"{"prompt":"\ud800"}"#.utf8)),
            ("duplicate key", Array(#"{"prompt":"a","max_tokens":1,"max_tokens":99999}"#.utf8)),
        ]
        for (label, body) in cases {
            Self.expectRefused(Self.post(body), status: 400, on: s, label)
        }
        // JSON exchanged between systems must be UTF-8 (RFC 8259 8.1): UTF-16 is refused.
        let utf16: [UInt8] = [0xFF, 0xFE] + #"{"prompt":"a","max_tokens":1}"#.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        Self.expectRefused(Self.post(utf16), status: 400, on: s, "UTF-16 body")
        // Escaped NUL and other controls are valid JSON and valid prompts.
        #expect(try Self.send(Self.post(#"{"prompt":"a\u0000b\u0001","max_tokens":1}"#), to: s).status == 200)
    }

    @Test func absurdNumbersAre400NamingTheField() throws {
        let s = try Self.server()
        let cases: [(String, String)] = [
            (#""max_tokens":-1"#, "max_tokens"),
            (#""max_tokens":9223372036854775807"#, "max_tokens"),
            (#""max_tokens":-9223372036854775808"#, "max_tokens"),
            (#""max_tokens":100000000000000000000000"#, "max_tokens"),
            (#""max_tokens":2.5"#, "max_tokens"),
            (#""max_tokens":1e15"#, "max_tokens"),
            (#""n":9223372036854775807"#, "n"),
            (#""n":0"#, "n"),
            (#""n":-1"#, "n"),
            (#""temperature":1e39"#, "temperature"),
            (#""top_p":1e-60"#, "top_p"),
            (#""top_k":-2"#, "top_k"),
            (#""top_k":1e300"#, "top_k"),
            (#""min_p":1.0000001"#, "min_p"),
            (#""presence_penalty":2.5"#, "presence_penalty"),
            (#""frequency_penalty":-1e39"#, "frequency_penalty"),
            (#""repetition_penalty":0"#, "repetition_penalty"),
            (#""seed":18446744073709551616"#, "seed"),
            (#""seed":1.5"#, "seed"),
            (#""logprobs":-1"#, "logprobs"),
            (#""logprobs":21"#, "logprobs"),
            (#""logit_bias":{"5":1e39}"#, "logit_bias"),
            (#""logit_bias":{"5":101}"#, "logit_bias"),
            (#""logit_bias":{"99999999999":1}"#, "logit_bias"),
            (#""logit_bias":{"-1":1}"#, "logit_bias"),
            (#""logit_bias":{"1e2":1}"#, "logit_bias"),
            (#""dlcm":{"timeout":-0.0}"#, "dlcm.timeout"),
        ]
        for (field, param) in cases {
            Self.expectRefused(Self.post(#"{"prompt":"a","# + field + "}"), status: 400, param: param, on: s, field)
        }
        // Any positive timeout is one (the schema says so): a tiny one ends the completion at once.
        let tiny = try s.post("/v1/completions", #"{"prompt":"a","max_tokens":8,"dlcm":{"timeout":1e-60}}"#)
        #expect(tiny.status == 200)
        #expect((tiny.json["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String == "timeout")
        // Numbers beyond Double's range are refused by the JSON decoder itself, before any field
        // is looked at: a 400 without a param.
        for field in [#""max_tokens":1e999"#, #""temperature":-1e999"#, #""seed":1e400"#] {
            Self.expectRefused(Self.post(#"{"prompt":"a","# + field + "}"), status: 400, on: s, field)
        }
        // Prompt token ids out of range, and a prompt that cannot fit.
        Self.expectRefused(Self.post(#"{"prompt":[1,-1]}"#), status: 400, param: "prompt", on: s, "negative token id")
        Self.expectRefused(Self.post(#"{"prompt":[1,9223372036854775807]}"#), status: 400, param: "prompt", on: s, "huge token id")
        Self.expectRefused(Self.post(#"{"prompt":[1,1e300]}"#), status: 400, param: "prompt", on: s, "token id as a double")
        let long = "[" + Array(repeating: "1", count: 600).joined(separator: ",") + "]"
        Self.expectRefused(Self.post(#"{"prompt":"# + long + "}"), status: 400, param: "prompt", on: s, "prompt over the context")
        Self.expectRefused(Self.post(#"{"prompt":["# + Array(repeating: #""a""#, count: 5000).joined(separator: ",") + "]}"),
                           status: 400, param: "n", on: s, "5000 prompts")
        // Odd but valid spellings are accepted.
        for field in [#""max_tokens":-0"#, #""max_tokens":2.0"#, #""max_tokens":2e0"#, #""temperature":-0"#, #""seed":-9223372036854775808"#,
                      #""top_k":-1"#, #""dlcm":{"timeout":1e39}"#, #""logit_bias":{"5":-0.0}"#] {
            let r = try Self.send(Self.post(#"{"prompt":"a","# + field + "}"), to: s)
            #expect(r.status == 200, "\(field): \(r.text)")
        }
    }

    /// Every field of a completion request, and values of each JSON type that it does not take.
    static let wrongTypes: [(field: String, param: String, values: [String])] = [
        ("model", "model", ["1", "true", "[]", "{}"]),
        ("prompt", "prompt", ["1", "true", "{}", "[true]", "[[1,\"a\"]]", "[{}]", "[1.5]"]),
        ("max_tokens", "max_tokens", ["\"4\"", "true", "[]", "{}"]),
        ("n", "n", ["\"1\"", "true", "[1]", "{}"]),
        ("temperature", "temperature", ["\"0\"", "false", "[0]", "{}"]),
        ("top_p", "top_p", ["\"1\"", "true", "[]", "{}"]),
        ("top_k", "top_k", ["\"1\"", "true", "[]", "{}", "1.5"]),
        ("min_p", "min_p", ["\"0\"", "true", "[]", "{}"]),
        ("presence_penalty", "presence_penalty", ["\"0\"", "true", "[]", "{}"]),
        ("frequency_penalty", "frequency_penalty", ["\"0\"", "true", "[]", "{}"]),
        ("repetition_penalty", "repetition_penalty", ["\"1\"", "true", "[]", "{}"]),
        ("seed", "seed", ["\"1\"", "true", "[]", "{}"]),
        ("logit_bias", "logit_bias", ["\"x\"", "1", "true", "[]", "{\"5\":\"1\"}", "{\"5\":[]}", "{\"a\":1}"]),
        ("stop", "stop", ["1", "true", "{}", "[1]", "[null]", "[[\"a\"]]"]),
        ("ignore_eos", "ignore_eos", ["\"true\"", "1", "[]", "{}"]),
        ("echo", "echo", ["\"true\"", "1", "[]", "{}"]),
        ("logprobs", "logprobs", ["\"1\"", "true", "[]", "{}"]),
        ("stream", "stream", ["\"true\"", "1", "[]", "{}"]),
        ("stream_options", "stream_options", ["\"x\"", "1", "true", "[]"]),
        ("dlcm", "dlcm", ["\"x\"", "1", "true", "[]"]),
    ]

    @Test func wrongTypesForEveryFieldAre400() throws {
        let s = try Self.server()
        for (field, param, values) in Self.wrongTypes {
            for value in values {
                let body = field == "prompt" ? #"{"prompt":\#(value)}"# : #"{"prompt":"a","\#(field)":\#(value)}"#
                Self.expectRefused(Self.post(body), status: 400, param: param, on: s, body)
            }
        }
        let nested: [(String, String)] = [
            (#""stream":true,"stream_options":{"include_usage":"yes"}"#, "stream_options.include_usage"),
            (#""dlcm":{"concepts":1}"#, "dlcm.concepts"),
            (#""dlcm":{"timeout":"5"}"#, "dlcm.timeout"),
        ]
        for (field, param) in nested {
            Self.expectRefused(Self.post(#"{"prompt":"a","# + field + "}"), status: 400, param: param, on: s, field)
        }
        // The other JSON routes check their fields too.
        for (path, body) in [("/v1/tokenize", #"{"prompt":1}"#), ("/v1/tokenize", "[]"), ("/v1/detokenize", #"{"tokens":"a"}"#),
                             ("/v1/detokenize", #"{"tokens":[1.5]}"#), ("/v1/detokenize", #"{"tokens":[-1]}"#), ("/v1/segment", #"{"prompt":{}}"#)] {
            Self.expectRefused(Self.post(body, path: path), status: 400, on: s, "\(path) \(body)")
        }
    }

    /// Large bodies of many small values: the JSON parser and the prompt count check must not
    /// spend seconds of event-loop time on them (Foundation's decoder took 2-3.5 s per 1 MB, and
    /// 200k one-letter prompts were all tokenized before n x prompts was checked).
    @Test func megabyteBodiesOfSmallValuesAreCheap() throws {
        let s = try TestServer()   // default limits: 8 MiB bodies
        let manyPrompts = #"{"prompt":["# + Array(repeating: #""a""#, count: 200_000).joined(separator: ",") + "]}"
        let manyIDs = #"{"prompt":[["# + Array(repeating: "5", count: 100_000).joined(separator: ",") + "]]}"
        let ignored = #"{"prompt":"a","max_tokens":1,"x":["# + Array(repeating: "1.5", count: 200_000).joined(separator: ",") + "]}"
        for (label, body, status, param) in [("200k prompts", manyPrompts, 400, "n"), ("100k token ids", manyIDs, 400, "prompt"),
                                             ("200k ignored numbers", ignored, 200, nil)] {
            let started = Date()
            let r = try Self.send(Self.post(body), to: s)
            #expect(r.status == status, "\(label): \(r.text.prefix(200))")
            if let param { #expect(r.error["param"] as? String == param, "\(label)") }
            print("\(label): \(body.utf8.count) bytes answered \(r.status) in \(Int(Date().timeIntervalSince(started) * 1000)) ms")
        }
        Self.expectStillServes(s, "large bodies")
    }

    @Test func deepNestingIsRefusedOrIgnoredWithoutCrashing() throws {
        let s = try Self.server()
        for depth in [100, 600, 10_000] {
            for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
                let deep = String(repeating: open, count: depth) + "1" + String(repeating: close, count: depth)
                // As the whole body, and as an unknown field the server would otherwise ignore.
                for body in [deep, #"{"prompt":"a","max_tokens":1,"x":"# + deep + "}"] {
                    let r = try Self.send(Self.post(body), to: s)
                    let accepted = depth <= 100 && body.hasPrefix(#"{"prompt""#)
                    #expect(r.status == (accepted ? 200 : 400), "depth \(depth) \(open): \(r.status) \(r.text.prefix(200))")
                    if !accepted { #expect(r.error["message"] is String) }
                    Self.expectStillServes(s, "depth \(depth)")
                }
            }
        }
    }
}
