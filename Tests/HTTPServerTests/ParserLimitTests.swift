import Testing
@testable import HTTPServer

@Suite("Parser: limits just under and just over")
struct ParserLimitTests {
    static let limits = HTTPLimits(
        maxRequestLineLength: 64, maxHeaderBytes: 100, maxHeaderCount: 5, maxBodyBytes: 10)

    /// A request line of exactly `length` bytes.
    func requestLine(length: Int) -> String {
        let fixed = "GET / HTTP/1.1".utf8.count
        return "GET /" + String(repeating: "a", count: length - fixed) + " HTTP/1.1"
    }

    @Test func requestLineLength() {
        let under = parseEverySplit(requestLine(length: 64) + "\r\nHost: a\r\n\r\n", limits: Self.limits)
        #expect(under.error == nil)
        #expect(under.messages.count == 1)
        let over = parseEverySplit(requestLine(length: 65) + "\r\nHost: a\r\n\r\n", limits: Self.limits)
        #expect(over.error?.status == .uriTooLong)
    }

    /// Header lines totalling exactly `total` bytes (CRLFs included).
    func headers(total: Int) -> String {
        let host = "Host: a\r\n"  // 9
        let fixed = host.utf8.count + "X-Pad: \r\n".utf8.count
        return host + "X-Pad: " + String(repeating: "p", count: total - fixed) + "\r\n"
    }

    @Test func headerBytes() {
        let under = parseEverySplit("GET / HTTP/1.1\r\n" + headers(total: 100) + "\r\n", limits: Self.limits)
        #expect(under.error == nil)
        #expect(under.messages.count == 1)
        let over = parseEverySplit("GET / HTTP/1.1\r\n" + headers(total: 101) + "\r\n", limits: Self.limits)
        #expect(over.error?.status == .headersTooLarge)
    }

    @Test func headerCount() {
        let five = "Host: a\r\n" + (1...4).map { "X-\($0): v\r\n" }.joined()
        let under = parseEverySplit("GET / HTTP/1.1\r\n" + five + "\r\n", limits: Self.limits)
        #expect(under.error == nil)
        let over = parseEverySplit("GET / HTTP/1.1\r\n" + five + "X-5: v\r\n\r\n", limits: Self.limits)
        #expect(over.error?.status == .headersTooLarge)
    }

    @Test func contentLengthBody() {
        let under = parseEverySplit("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789", limits: Self.limits)
        #expect(under.messages.first?.body.count == 10)
        let over = parseEverySplit("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n01234567890", limits: Self.limits)
        #expect(over.error?.status == .payloadTooLarge)
        // Refused at the head: no body byte is needed to know.
        #expect(over.partialBody.isEmpty)
    }

    @Test func chunkedBody() {
        let head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        let under = parseEverySplit(head + "4\r\n0123\r\n6\r\n456789\r\n0\r\n\r\n", limits: Self.limits)
        #expect(under.messages.first?.body.count == 10)
        let over = parseEverySplit(head + "4\r\n0123\r\n7\r\n4567890\r\n0\r\n\r\n", limits: Self.limits)
        #expect(over.error?.status == .payloadTooLarge)
    }

    @Test func trailerBytesCountAsHeaders() {
        let head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
        let over = parseEverySplit(head + "X-T: " + String(repeating: "t", count: 120) + "\r\n\r\n", limits: Self.limits)
        #expect(over.error?.status == .headersTooLarge)
    }
}
