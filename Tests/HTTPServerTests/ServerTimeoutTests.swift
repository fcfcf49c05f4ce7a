import Foundation
import Testing
@testable import HTTPServer
import MonotonicTime
import TestSupport

@Suite("Server over real sockets: timeouts and slow clients")
struct ServerTimeoutTests {
    static let shortTimeouts = HTTPTimeouts(
        header: .milliseconds(200), body: .milliseconds(200), idle: .milliseconds(200),
        writeStall: .milliseconds(200), linger: .milliseconds(200))

    @Test func halfARequestGets408AfterHeaderTimeout() throws {
        try withServer(ServerConfiguration(timeouts: Self.shortTimeouts), handler: echoHandler) { server in
            let client = try TestClient(port: server.port)
            let start = monotonicSeconds()
            try client.send("GET / HTTP/1.1\r\nHost: x\r\n")  // no blank line: the head never ends
            let response = try #require(try client.readResponse())
            let elapsed = monotonicSeconds() - start
            #expect(response.status == 408)
            #expect(response.jsonError()?["code"] as? String == "request_timeout")
            #expect(elapsed >= 0.18 && elapsed < 2.0, "elapsed \(elapsed)")
            #expect(client.waitForClose())
        }
    }

    @Test func stalledBodyGets408() throws {
        try withServer(ServerConfiguration(timeouts: Self.shortTimeouts), handler: echoHandler) { server in
            let client = try TestClient(port: server.port)
            try client.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
            #expect(try client.readResponse()?.status == 408)
        }
    }

    @Test func silentConnectionIsClosedWithoutResponse() throws {
        try withServer(ServerConfiguration(timeouts: Self.shortTimeouts), handler: echoHandler) { server in
            let client = try TestClient(port: server.port)
            #expect(try client.readResponse() == nil)  // EOF, no bytes
        }
    }

    @Test func idleKeepAliveConnectionIsClosed() throws {
        try withServer(ServerConfiguration(timeouts: Self.shortTimeouts), handler: echoHandler) { server in
            let client = try TestClient(port: server.port)
            try client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try client.readResponse()?.status == 200)
            let start = monotonicSeconds()
            #expect(client.waitForClose())
            let elapsed = monotonicSeconds() - start
            #expect(elapsed >= 0.15 && elapsed < 2.0, "elapsed \(elapsed)")
            #expect(server.counters.snapshot.parseErrorsByStatus.isEmpty)  // closed silently
        }
    }

    @Test func stalledWriterIsClosed() throws {
        let big = [UInt8](repeating: 0x78, count: 32 * 1024 * 1024)
        let handler: HTTPHandler = { _, responder in responder.respond(status: .ok, body: big) }
        try withServer(ServerConfiguration(timeouts: Self.shortTimeouts), handler: handler) { server in
            let client = try TestClient(port: server.port)
            client.shrinkReceiveBuffer()
            try client.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
            // Never read. The server must give up on its own.
            let deadline = monotonicSeconds() + 3
            while server.counters.openConnections > 0 && monotonicSeconds() < deadline { usleep(10_000) }
            #expect(server.counters.openConnections == 0)
        }
    }

    @Test func slowClientDoesNotBlockOthers() throws {
        let big = [UInt8](repeating: 0x78, count: 16 * 1024 * 1024)
        let handler: HTTPHandler = { request, responder in
            if request.path == "/big" { responder.respond(status: .ok, body: big) } else { echoHandler(request, responder) }
        }
        try withServer(handler: handler) { server in
            // One client dribbles half a head, another never reads a 16 MB response.
            let dribbler = try TestClient(port: server.port)
            try dribbler.send("GET / HTTP/1.1\r\nHo")
            let nonReader = try TestClient(port: server.port)
            nonReader.shrinkReceiveBuffer()
            try nonReader.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
            usleep(50_000)
            let start = monotonicSeconds()
            let other = try TestClient(port: server.port)
            for i in 0..<20 {
                try other.send("GET /\(i) HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try other.readResponse()?.bodyText == "GET /\(i) ")
            }
            // Blocked behind the non-reader, each answer would wait for its write timeout (30 s);
            // 4 s leaves room for a loaded machine.
            #expect(monotonicSeconds() - start < 4)
            #expect(server.counters.openConnections == 3)
        }
    }
}
