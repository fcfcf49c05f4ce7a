import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HTTPServer
import MonotonicTime

struct TestClientError: Error, CustomStringConvertible {
    var description: String
}

/// A response as the raw-socket test client read it.
struct TestResponse {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
    var bodyText: String { String(decoding: body, as: UTF8.self) }
    /// Chunk count when the body came chunked.
    var chunks: Int?

    func jsonError() -> [String: Any]? {
        let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
        return object?["error"] as? [String: Any]
    }
}

/// A blocking raw-socket HTTP client, small enough to trust, used to drive the server in ways
/// a real client library would not (half requests, pipelining, never reading).
final class TestClient {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, receiveTimeout: Double = 5) throws {
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

    deinit { Glibc.close(fd) }

    /// Smaller receive buffer, so that a client that does not read fills up quickly.
    func shrinkReceiveBuffer() {
        var size: Int32 = 4096
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// Half-closes: no more bytes will be sent, but the client still reads (`nc -N`).
    func shutdownWrite() { _ = shutdown(fd, Int32(SHUT_WR)) }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw TestClientError(description: "send failed: errno \(errno)") }
            sent += n
        }
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

    /// Reads status line and headers; nil if the connection closed before any byte.
    func readHead() throws -> (status: Int, headers: HTTPHeaders)? {
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

    /// Reads one whole response (interim 1xx responses are returned like any other).
    func readResponse(isHead: Bool = false) throws -> TestResponse? {
        guard let (status, headers) = try readHead() else { return nil }
        if isHead || status < 200 || status == 204 || status == 304 {
            return TestResponse(status: status, headers: headers, body: [])
        }
        if headers["Transfer-Encoding"] == "chunked" {
            var body: [UInt8] = []
            var chunks = 0
            while true {
                let sizeLine = try readLine()
                guard let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else {
                    throw TestClientError(description: "bad chunk size \(sizeLine)")
                }
                if size == 0 {
                    while try !readLine().isEmpty {}
                    break
                }
                body += try readExactly(size)
                chunks += 1
                guard try readLine().isEmpty else { throw TestClientError(description: "chunk not followed by CRLF") }
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

    /// True when the server closed the connection (EOF or reset) within the receive timeout,
    /// ignoring any bytes that arrive first.
    func waitForClose() -> Bool {
        buffer = []
        while true {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }
}

/// Starts a server on an ephemeral port for the duration of `body`.
func withServer(
    _ configuration: ServerConfiguration = ServerConfiguration(),
    handler: @escaping HTTPHandler,
    _ body: (Server) throws -> Void
) throws {
    let server = Server(configuration: configuration, handler: handler)
    try server.start()
    defer { server.stop() }
    try body(server)
}

/// A handler answering `METHOD path body-length` for any request.
let echoHandler: HTTPHandler = { request, responder in
    responder.respond(
        status: .ok, headers: ["Content-Type": "text/plain"],
        body: "\(request.method) \(request.path) \(String(decoding: request.body, as: UTF8.self))")
}

/// Polls `condition` every millisecond until it holds or `seconds` pass; whether it held. Every
/// wait in the tests has a deadline, so a broken server fails a test instead of hanging the run.
@discardableResult
func waitUntil(seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = monotonicSeconds() + seconds
    while !condition() {
        if monotonicSeconds() > deadline { return false }
        usleep(1_000)
    }
    return true
}

