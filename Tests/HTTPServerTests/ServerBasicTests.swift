import Foundation
import Synchronization
import Testing
@testable import HTTPServer
import MonotonicTime
import TestSupport

@Suite("Server over real sockets: connection handling")
struct ServerBasicTests {
    @Test func keepAliveServesTwoRequestsOnOneConnection() throws {
        try withServer(handler: echoHandler) { server in
            let client = try TestClient(port: server.port)
            try client.send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n")
            let first = try #require(try client.readResponse())
            #expect(first.status == 200)
            #expect(first.bodyText == "GET /one ")
            #expect(first.headers["Connection"] == nil)
            try client.send("POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody")
            let second = try #require(try client.readResponse())
            #expect(second.bodyText == "POST /two body")
            let counters = server.counters.snapshot
            #expect(counters.acceptedConnections == 1)
            #expect(counters.requestsParsed == 2)
        }
    }

    @Test func pipelinedRequestsAnsweredInOrder() throws {
        // /slow answers from another thread after a delay, /fast at once: order must hold.
        let handler: HTTPHandler = { request, responder in
            if request.path == "/slow" {
                DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) {
                    responder.respond(status: .ok, body: "slow")
                }
            } else {
                responder.respond(status: .ok, body: String(request.path.dropFirst()))
            }
        }
        try withServer(handler: handler) { server in
            let client = try TestClient(port: server.port)
            try client.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\nPOST /third HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            let bodies = try (0..<3).map { _ in try #require(try client.readResponse()).bodyText }
            #expect(bodies == ["slow", "fast", "third"])
        }
    }

    @Test func manyPipelinedRequestsWithReadPausing() throws {
        // Far more pipelined input than the connection buffers while a request is in flight,
        // so reading pauses and resumes; every answer must still come, in order.
        let config = ServerConfiguration(
            limits: HTTPLimits(maxRequestLineLength: 256, maxHeaderBytes: 512), readBufferSize: 1024)
        let handler: HTTPHandler = { request, responder in
            DispatchQueue.global().async { responder.respond(status: .ok, body: String(request.path.dropFirst())) }
        }
        try withServer(config, handler: handler) { server in
            let client = try TestClient(port: server.port)
            let count = 300
            try client.send((0..<count).map { "GET /\($0) HTTP/1.1\r\nHost: x\r\n\r\n" }.joined())
            var bodies: [String] = []
            for _ in 0..<count { bodies.append(try #require(try client.readResponse()).bodyText) }
            #expect(bodies == (0..<count).map(String.init))
            #expect(server.counters.snapshot.acceptedConnections == 1)
        }
    }

    @Test func manyPipelinedRequestsAnsweredOnTheLoopThread() throws {
        // Answers given at once on the loop thread do not signal the eventfd; the loop must
        // still keep going until all buffered requests are served, not sleep until a timer.
        try withServer(handler: echoHandler) { server in
            let client = try TestClient(port: server.port)
            let count = 300
            let start = monotonicSeconds()
            try client.send((0..<count).map { "GET /\($0) HTTP/1.1\r\nHost: x\r\n\r\n" }.joined())
            for i in 0..<count { #expect(try client.readResponse()?.bodyText == "GET /\(i) ") }
            // A loop that slept until its next sweep (up to 250 ms) between requests would take
            // over a minute; 5 s leaves room for a loaded machine.
            #expect(monotonicSeconds() - start < 5)
        }
    }

    @Test func connectionCloseIsHonoured() throws {
        try withServer(handler: echoHandler) { server in
            let client = try TestClient(port: server.port)
            try client.send("GET /bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let response = try #require(try client.readResponse())
            #expect(response.status == 200)
            #expect(response.headers["Connection"] == "close")
            #expect(client.waitForClose())
        }
    }

    @Test func http10ClosesUnlessKeepAlive() throws {
        try withServer(handler: echoHandler) { server in
            let plain = try TestClient(port: server.port)
            try plain.send("GET /a HTTP/1.0\r\n\r\n")
            #expect(try plain.readResponse()?.headers["Connection"] == "close")
            #expect(plain.waitForClose())

            let kept = try TestClient(port: server.port)
            try kept.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try kept.readResponse()?.headers["Connection"] == "keep-alive")
            try kept.send("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try kept.readResponse()?.bodyText == "GET /b ")
        }
    }

    @Test func expectContinueIsAnsweredBeforeTheBody() throws {
        try withServer(handler: echoHandler) { server in
            let client = try TestClient(port: server.port)
            try client.send("POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
            let interim = try #require(try client.readResponse())
            #expect(interim.status == 100)
            try client.send("hello")
            let final = try #require(try client.readResponse())
            #expect(final.status == 200)
            #expect(final.bodyText == "POST /up hello")
        }
    }

    @Test func expectContinueNotSentWhenRefused() throws {
        var config = ServerConfiguration()
        config.limits.maxBodyBytes = 100
        try withServer(config, handler: echoHandler) { server in
            let client = try TestClient(port: server.port)
            try client.send("POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 101\r\n\r\n")
            let response = try #require(try client.readResponse())
            #expect(response.status == 413)  // not 100
            #expect(client.waitForClose())
        }
    }

    @Test func headGetsHeadersWithoutBody() throws {
        try withServer(handler: echoHandler) { server in
            let client = try TestClient(port: server.port)
            try client.send("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n")
            let head = try #require(try client.readResponse(isHead: true))
            #expect(head.status == 200)
            #expect(head.headers["Content-Length"] == String("HEAD /h ".utf8.count))
            // If a body had been sent, it would be read as the next response's status line.
            try client.send("GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try client.readResponse()?.bodyText == "GET /next ")
        }
    }

    @Test(arguments: [
        (413, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n"),
        (414, "GET /" + String(repeating: "u", count: 300) + " HTTP/1.1\r\nHost: x\r\n\r\n"),
        (431, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "h", count: 600) + "\r\n\r\n"),
        (400, "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"),
        (505, "GET / HTTP/2.0\r\nHost: x\r\n\r\n"),
    ])
    func parseErrorsGetJSONAndClose(status: Int, request: String) throws {
        let config = ServerConfiguration(limits: HTTPLimits(
            maxRequestLineLength: 256, maxHeaderBytes: 512, maxBodyBytes: 1000))
        try withServer(config, handler: echoHandler) { server in
            let client = try TestClient(port: server.port)
            try client.send(request)
            let response = try #require(try client.readResponse())
            #expect(response.status == status)
            #expect(response.headers["Content-Type"] == "application/json")
            #expect(response.headers["Connection"] == "close")
            let error = try #require(response.jsonError())
            #expect(error["message"] is String)
            #expect(error["type"] as? String == "invalid_request_error")
            #expect(error["param"] is NSNull)
            #expect(client.waitForClose())
            #expect(server.counters.snapshot.parseErrorsByStatus[status] == 1)
            #expect(server.counters.snapshot.requestsParsed == 0)
        }
    }

    @Test func atTheLimitTheLongestIdleConnectionMakesRoom() throws {
        let config = ServerConfiguration(maxConnections: 2)
        try withServer(config, handler: echoHandler) { server in
            let a = try TestClient(port: server.port)
            let b = try TestClient(port: server.port)
            for c in [a, b] {
                try c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try c.readResponse()?.status == 200)
            }
            // Both wait idle; a, the older, is closed so that a probe gets in.
            let probe = try TestClient(port: server.port)
            try probe.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try probe.readResponse()?.bodyText == "GET /health ")
            #expect(a.waitForClose())
            #expect(server.counters.snapshot.evictedConnections == 1)
            #expect(server.counters.snapshot.rejectedConnections == 0)
            try b.send("GET /still HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try b.readResponse()?.bodyText == "GET /still ")
        }
    }

    @Test func atTheLimitWithNothingIdleNewConnectionsGet503() throws {
        let kept = Mutex<[HTTPResponder]>([])
        let handler: HTTPHandler = { request, responder in
            if request.path == "/hold" { kept.withLock { $0.append(responder) } } else { responder.respond(status: .ok) }
        }
        let config = ServerConfiguration(maxConnections: 2)
        try withServer(config, handler: handler) { server in
            let a = try TestClient(port: server.port)
            let b = try TestClient(port: server.port)
            try a.send("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n")
            try b.send("GET /hold HTTP/1.1\r\nHost: x\r\n") // half a head: not idle either
            let deadline = monotonicSeconds() + 3
            while kept.withLock({ $0.count }) < 1 && monotonicSeconds() < deadline { usleep(1_000) }
            let third = try TestClient(port: server.port)
            let refused = try #require(try third.readResponse())
            #expect(refused.status == 503)
            #expect(refused.headers["Retry-After"] == "1")
            #expect(refused.jsonError()?["type"] as? String == "server_error")
            #expect(server.counters.snapshot.rejectedConnections == 1)
            #expect(server.counters.snapshot.evictedConnections == 0)
            // The first is unaffected.
            #expect(kept.withLock { $0 }.first?.respond(status: .ok, body: "held") == true)
            #expect(try a.readResponse()?.bodyText == "held")
        }
    }
}
