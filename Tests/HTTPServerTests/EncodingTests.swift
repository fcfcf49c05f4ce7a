import Foundation
import Testing
@testable import HTTPServer

@Suite("Chunked encoder, JSON errors, response heads")
struct EncodingTests {
    @Test func chunkedEncoding() {
        #expect(ChunkedEncoder.encode(Array("hello".utf8)) == Array("5\r\nhello\r\n".utf8))
        #expect(ChunkedEncoder.encode(Array(repeating: 0x61, count: 26)).prefix(4) == Array("1a\r\n".utf8)[...])
        #expect(ChunkedEncoder.encode([]).isEmpty)
        var out: [UInt8] = []
        ChunkedEncoder.appendHex(0x1000, to: &out)
        #expect(out == Array("1000".utf8))
    }

    @Test func chunkedOutputParsesBack() throws {
        // The encoder's output must be accepted by the parser and reassemble the pieces.
        let pieces = ["a", String(repeating: "b", count: 300), "", "ccc"]
        var body: [UInt8] = []
        for p in pieces { body += ChunkedEncoder.encode(Array(p.utf8)) }
        body += ChunkedEncoder.terminator
        let request = Array("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".utf8) + body
        let out = parseEverySplit(request)
        #expect(out.messages.first?.body == Array(pieces.joined().utf8))
    }

    @Test func jsonErrorShape() throws {
        let body = JSONError.body(message: "bad \"thing\"\n\u{1}", type: "invalid_request_error", code: "x_code")
        let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
        let error = try #require(object?["error"] as? [String: Any])
        #expect(error["message"] as? String == "bad \"thing\"\n\u{1}")
        #expect(error["type"] as? String == "invalid_request_error")
        #expect(error["param"] is NSNull)
        #expect(error["code"] as? String == "x_code")
        let nullCode = JSONError.body(message: "m", type: "t", code: nil)
        #expect(String(decoding: nullCode, as: UTF8.self) == #"{"error":{"message":"m","type":"t","param":null,"code":null}}"#)
    }

    @Test func errorResponseHasRetryAfterAndCloses() {
        let text = String(decoding: ResponseWriter.error(.serviceUnavailable, message: "busy", retryAfter: 3), as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
        #expect(text.contains("\r\nRetry-After: 3\r\n"))
        #expect(text.contains("\r\nConnection: close\r\n"))
        #expect(text.contains("\r\nContent-Type: application/json\r\n"))
    }

    @Test func httpDateFormat() {
        #expect(String(decoding: HTTPDate.format(784_111_777), as: UTF8.self) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.now().count == 29)
    }

    @Test func responseHeadManagesFramingHeaders() {
        let date = "Sun, 06 Nov 1994 08:49:37 GMT"
        let headers: HTTPHeaders = ["Content-Length": "999", "X-Ok": "1", "X-Evil": "a\r\nSet-Cookie: x", "Date": date]
        let text = String(decoding: ResponseWriter.full(
            status: .ok, headers: headers, body: Array("hi".utf8), isHead: false,
            keepAlive: true, requestVersion: .http1_1), as: UTF8.self)
        #expect(text == "HTTP/1.1 200 OK\r\nX-Ok: 1\r\nDate: \(date)\r\nContent-Length: 2\r\n\r\nhi")
        let head = String(decoding: ResponseWriter.full(
            status: .ok, headers: ["Date": date], body: Array("hi".utf8), isHead: true,
            keepAlive: true, requestVersion: .http1_0), as: UTF8.self)
        #expect(head == "HTTP/1.1 200 OK\r\nDate: \(date)\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n")
        let noContent = String(decoding: ResponseWriter.full(
            status: .noContent, headers: ["Date": date], body: [], isHead: false,
            keepAlive: false, requestVersion: .http1_1), as: UTF8.self)
        #expect(noContent == "HTTP/1.1 204 No Content\r\nDate: \(date)\r\nConnection: close\r\n\r\n")
        // Without one from the handler, the server supplies the date.
        let dated = String(decoding: ResponseWriter.full(
            status: .ok, headers: [:], body: [], isHead: false, keepAlive: true, requestVersion: .http1_1), as: UTF8.self)
        #expect(dated.hasPrefix("HTTP/1.1 200 OK\r\nDate: "))
        #expect(dated.hasSuffix(" GMT\r\nContent-Length: 0\r\n\r\n"))
    }
}
