import Testing
@testable import HTTPServer

@Suite("Parser: valid requests")
struct ParserValidTests {
    @Test func simpleGet() {
        let out = parseEverySplit("GET /v1/models?x=1&y=2 HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n")
        #expect(out.error == nil)
        #expect(out.messages.count == 1)
        let head = out.messages[0].head
        #expect(head.method == "GET")
        #expect(head.target == "/v1/models?x=1&y=2")
        #expect(head.path == "/v1/models")
        #expect(head.query == "x=1&y=2")
        #expect(head.version == .http1_1)
        #expect(head.headers["host"] == "localhost")
        #expect(head.headers["ACCEPT"] == "*/*")
        #expect(head.keepAlive)
        #expect(out.messages[0].body.isEmpty)
    }

    @Test func absoluteFormTargetBecomesOriginForm() throws {
        let cases = [("http://example.test/v1/models?x=1", "/v1/models?x=1"), ("HTTPS://h:8443/a/b", "/a/b"),
                     ("http://h", "/"), ("http://h?q=1", "/?q=1"), ("/already/origin", "/already/origin")]
        for (target, origin) in cases {
            let out = parseEverySplit("GET \(target) HTTP/1.1\r\nHost: z\r\n\r\n")
            #expect(out.error == nil, "\(target)")
            #expect(out.messages.first?.head.target == origin, "\(target)")
        }
        for target in ["http:///nohost", "http://#frag"] {
            #expect(parseEverySplit("GET \(target) HTTP/1.1\r\nHost: z\r\n\r\n").error?.status == .badRequest, "\(target)")
        }
    }

    @Test func postWithContentLength() {
        let out = parseEverySplit("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\nContent-Type:  text/plain \t\r\n\r\nhello world")
        #expect(out.error == nil)
        #expect(out.messages.count == 1)
        #expect(out.messages[0].body == Array("hello world".utf8))
        #expect(out.messages[0].head.headers["content-type"] == "text/plain")  // OWS trimmed
    }

    @Test func chunkedWithExtensionsAndTrailers() {
        let input = "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n"
            + "5;ext=1;quoted=\"a b\"\r\nhello\r\n"
            + "6 ; x\r\n world\r\n"
            + "A\r\n0123456789\r\n"
            + "0;last\r\nTrailer-One: x\r\nTrailer-Two: y\r\n\r\n"
        let out = parseEverySplit(input)
        #expect(out.error == nil)
        #expect(out.messages.count == 1)
        #expect(out.messages[0].body == Array("hello world0123456789".utf8))
        // Trailers are tolerated but not merged into the headers.
        #expect(!out.messages[0].head.headers.contains("Trailer-One"))
    }

    @Test func pipelinedPair() {
        let input = "GET /first HTTP/1.1\r\nHost: a\r\n\r\n"
            + "POST /second HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
            + "POST /third HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n"
        let out = parseEverySplit(input)
        #expect(out.error == nil)
        #expect(out.messages.map(\.head.target) == ["/first", "/second", "/third"])
        #expect(out.messages.map(\.body) == [[], Array("abc".utf8), Array("xy".utf8)])
    }

    @Test func parserStopsAtMessageEnd() throws {
        var parser = HTTPRequestParser()
        let bytes = Array("GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\n".utf8)
        var ends = 0
        let consumed = try bytes.withUnsafeBufferPointer { buf in
            try parser.parse(buf) { if case .end = $0 { ends += 1 } }
        }
        #expect(consumed == 28)
        #expect(ends == 1)
        #expect(parser.phase == .complete)
    }

    @Test func http10AndKeepAlive() {
        let plain = parseEverySplit("GET / HTTP/1.0\r\n\r\n")
        #expect(plain.error == nil)
        #expect(plain.messages.first?.head.version == .http1_0)
        #expect(plain.messages.first?.head.keepAlive == false)
        let kept = parseEverySplit("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
        #expect(kept.messages.first?.head.keepAlive == true)
        let closed = parseEverySplit("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n")
        #expect(closed.messages.first?.head.keepAlive == false)
    }

    @Test func toleratedShapes() {
        // Leading empty lines, identical repeated Content-Length, empty list elements in TE.
        let out = parseEverySplit("\r\n\r\nPOST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2, 2\r\n\r\nok")
        #expect(out.error == nil)
        #expect(out.messages.first?.body == Array("ok".utf8))
        let te = parseEverySplit("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , chunked\r\n\r\n0\r\n\r\n")
        #expect(te.error == nil)
        #expect(te.messages.count == 1)
    }

    @Test func expectContinueFlag() {
        let out = parseEverySplit("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\nx")
        #expect(out.messages.first?.head.expectsContinue == true)
    }

    @Test func headIsEmittedBeforeBodyArrives() throws {
        var parser = HTTPRequestParser()
        var sawHead = false
        let bytes = Array("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhe".utf8)
        _ = try bytes.withUnsafeBufferPointer { buf in
            try parser.parse(buf) { if case .head = $0 { sawHead = true } }
        }
        #expect(sawHead)
        #expect(parser.phase == .body)
    }
}
