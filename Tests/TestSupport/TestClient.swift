import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HTTPServer
import MonotonicTime

/// The raw-socket HTTP/1.1 client of every server test suite (HTTPServerTests, DLCMServerTests):
/// blocking, small enough to trust, and able to do what client libraries will not (half
/// requests, pipelining, never reading, hanging up mid-stream, any header).

public struct TestClientError: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

/// A response as the client read it.
public struct TestResponse {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Chunk count when the body came chunked.
    public var chunks: Int?

    public init(status: Int, headers: HTTPHeaders, body: [UInt8], chunks: Int? = nil) {
        self.status = status; self.headers = headers; self.body = body; self.chunks = chunks
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
    public var bodyText: String { text }

    public var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:] }
    /// The OpenAI-style error object, empty when there is none.
    public var error: [String: Any] { json["error"] as? [String: Any] ?? [:] }
    public func jsonError() -> [String: Any]? { json["error"] as? [String: Any] }

    /// The `data:` payloads of an SSE body, in order ([DONE] included as a string).
    public var events: [String] {
        text.components(separatedBy: "\n\n").compactMap { block in
            block.split(separator: "\n").first { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
        }
    }

    public var eventObjects: [[String: Any]] {
        events.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }
}

public final class TestClient {
    public let fd: Int32
    private var buffer: [UInt8] = []
    private var closed = false

    /// - Parameter receiveTimeout: seconds a read waits before it counts as the end.
    public init(port: Int, receiveTimeout: Double = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestClientError(description: "socket") }
        var tv = timeval(tv_sec: Int(receiveTimeout), tv_usec: Int(receiveTimeout.truncatingRemainder(dividingBy: 1) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 {
            let e = errno
            Glibc.close(fd)
            throw TestClientError(description: "connect: errno \(e)")
        }
    }

    deinit { close() }

    public func close() {
        if !closed { closed = true; Glibc.close(fd) }
    }

    /// Smaller receive buffer, so that a client that does not read fills up quickly.
    public func shrinkReceiveBuffer() {
        var size: Int32 = 4096
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Half-closes: no more bytes will be sent, but the client still reads (`nc -N`).
    public func shutdownWrite() { _ = shutdown(fd, Int32(SHUT_WR)) }

    public func send(_ text: String) throws { try send(Array(text.utf8)) }

    public func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw TestClientError(description: "send failed: errno \(errno)") }
            sent += n
        }
    }

    /// Sends one request: a JSON body by default, with its length.
    public func request(_ method: String, _ path: String, body: [UInt8]? = nil, contentType: String? = "application/json",
                        headers: [(String, String)] = []) throws {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if let body {
            if let contentType { head += "Content-Type: \(contentType)\r\n" }
            head += "Content-Length: \(body.count)\r\n"
        }
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        try send(Array((head + "\r\n").utf8) + (body ?? []))
    }

    /// Reads more bytes; false on EOF, error or receive timeout.
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { return false }
        buffer += chunk[0..<n]
        return true
    }

    private func readLine() throws -> String {
        while true {
            if let i = buffer.firstIndex(of: 0x0A), i > 0, buffer[i - 1] == 0x0D {
                let line = String(decoding: buffer[0..<(i - 1)], as: UTF8.self)
                buffer.removeFirst(i + 1)
                return line
            }
            guard fill() else { throw TestClientError(description: "connection ended mid-line") }
        }
    }

    private func readExactly(_ n: Int) throws -> [UInt8] {
        while buffer.count < n {
            guard fill() else { throw TestClientError(description: "connection ended mid-body") }
        }
        let out = Array(buffer[0..<n])
        buffer.removeFirst(n)
        return out
    }

    /// Reads status line and headers; nil if the connection closed (or the read timed out)
    /// before any byte.
    public func readHead() throws -> (status: Int, headers: HTTPHeaders)? {
        if buffer.isEmpty && !fill() { return nil }
        let statusLine = try readLine()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0] == "HTTP/1.1", let status = Int(parts[1]) else {
            throw TestClientError(description: "bad status line: \(statusLine)")
        }
        var headers = HTTPHeaders()
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { throw TestClientError(description: "bad header \(line)") }
            headers.add(name: String(line[..<colon]), value: String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
        }
        return (status, headers)
    }

    /// `readHead`, where the connection ending first is an error.
    public func expectHead() throws -> (status: Int, headers: HTTPHeaders) {
        guard let head = try readHead() else { throw TestClientError(description: "connection ended before a response") }
        return head
    }

    /// One chunk of a chunked body; nil at the last chunk (its trailers are skipped).
    public func readChunk() throws -> [UInt8]? {
        let sizeLine = try readLine()
        guard let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else {
            throw TestClientError(description: "bad chunk size \(sizeLine)")
        }
        if size == 0 {
            while try !readLine().isEmpty {}
            return nil
        }
        let data = try readExactly(size)
        guard try readLine().isEmpty else { throw TestClientError(description: "chunk not followed by CRLF") }
        return data
    }

    /// Reads one whole response (interim 1xx responses are returned like any other); nil if the
    /// connection closed before any byte of it.
    public func readResponse(isHead: Bool = false) throws -> TestResponse? {
        guard let (status, headers) = try readHead() else { return nil }
        if isHead || status < 200 || status == 204 || status == 304 {
            return TestResponse(status: status, headers: headers, body: [])
        }
        if headers["Transfer-Encoding"] == "chunked" {
            var body: [UInt8] = []
            var chunks = 0
            while let c = try readChunk() {
                body += c
                chunks += 1
            }
            return TestResponse(status: status, headers: headers, body: body, chunks: chunks)
        }
        if let length = headers["Content-Length"].flatMap(Int.init) {
            return TestResponse(status: status, headers: headers, body: try readExactly(length))
        }
        while fill() {}
        let body = buffer
        buffer = []
        return TestResponse(status: status, headers: headers, body: body)
    }

    /// `readResponse`, where the connection ending first is an error.
    public func expectResponse(isHead: Bool = false) throws -> TestResponse {
        guard let r = try readResponse(isHead: isHead) else { throw TestClientError(description: "connection ended before a response") }
        return r
    }

    /// True when the server closed the connection (EOF or reset) within the receive timeout,
    /// ignoring any bytes that arrive first.
    public func waitForClose() -> Bool {
        buffer = []
        while true {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }
}

/// Polls `condition` every millisecond until it holds or `seconds` pass; whether it held. Every
/// wait in the tests has a deadline, so a broken server fails a test instead of hanging the run.
@discardableResult
public func waitUntil(seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = monotonicSeconds() + seconds
    while !condition() {
        if monotonicSeconds() > deadline { return false }
        usleep(1_000)
    }
    return true
}
