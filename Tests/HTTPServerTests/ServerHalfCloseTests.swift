import Foundation
import Synchronization
import Testing
@testable import HTTPServer
import TestSupport

/// A client may shut down its sending side once its request is out (`shutdown(SHUT_WR)`, as
/// `nc -N` and some proxies do) and still read the answer. A client that closed its socket for
/// good must still get its request cancelled.
@Suite("Server over real sockets: half-closed clients")
struct ServerHalfCloseTests {
    @Test func halfClosedClientGetsAnImmediateAnswer() throws {
        try withServer(handler: echoHandler) { server in
            let client = try TestClient(port: server.port)
            try client.send("POST /now HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
            client.shutdownWrite()
            let response = try #require(try client.readResponse())
            #expect(response.status == 200)
            #expect(response.bodyText == "POST /now hi")
            #expect(client.waitForClose())
        }
    }

    @Test func halfClosedClientOfASlowHandlerGetsAnInterimThenTheAnswer() throws {
        let cancelled = Atomic<Bool>(false)
        let handler: HTTPHandler = { _, responder in
            responder.onCancel { cancelled.store(true, ordering: .relaxed) }
            DispatchQueue.global().asyncAfter(deadline: .now() + 0.8) { responder.respond(status: .ok, body: "late") }
        }
        try withServer(handler: handler) { server in
            let client = try TestClient(port: server.port)
            try client.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            client.shutdownWrite()
            // Past the probe delay nothing of the answer has gone out: a 100 (Continue) comes first.
            let interim = try #require(try client.readResponse())
            #expect(interim.status == 100)
            let response = try #require(try client.readResponse())
            #expect(response.status == 200)
            #expect(response.bodyText == "late")
            #expect(client.waitForClose())
            #expect(cancelled.load(ordering: .relaxed) == false)
        }
    }

    @Test func http10HalfClosedClientGetsNoInterim() throws {
        let handler: HTTPHandler = { _, responder in
            DispatchQueue.global().asyncAfter(deadline: .now() + 0.6) { responder.respond(status: .ok, body: "late") }
        }
        try withServer(handler: handler) { server in
            let client = try TestClient(port: server.port)
            try client.send("GET /slow HTTP/1.0\r\n\r\n")
            client.shutdownWrite()
            let response = try #require(try client.readResponse())
            #expect(response.status == 200)
            #expect(response.bodyText == "late")
        }
    }

    @Test func pipelinedRequestsBeforeAHalfCloseAreAllAnswered() throws {
        try withServer(handler: echoHandler) { server in
            let client = try TestClient(port: server.port)
            try client.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nPOST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nz")
            client.shutdownWrite()
            let bodies = try (0..<3).map { _ in try #require(try client.readResponse()).bodyText }
            #expect(bodies == ["GET /a ", "GET /b ", "POST /c z"])
            #expect(client.waitForClose())
        }
    }

    @Test func halfCloseInsideARequestClosesWithoutAnswer() throws {
        let handled = Atomic<Int>(0)
        let handler: HTTPHandler = { _, responder in
            handled.add(1, ordering: .relaxed)
            responder.respond(status: .ok)
        }
        try withServer(handler: handler) { server in
            let client = try TestClient(port: server.port)
            try client.send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
            client.shutdownWrite()
            #expect(client.waitForClose())
            #expect(handled.load(ordering: .relaxed) == 0)
        }
    }

    @Test func closedClientOfASlowHandlerIsCancelledByTheProbe() throws {
        let cancelled = DispatchSemaphore(value: 0)
        let kept = Mutex<HTTPResponder?>(nil)
        let handler: HTTPHandler = { _, responder in
            responder.onCancel { cancelled.signal() }
            kept.withLock { $0 = responder }  // never answered
        }
        try withServer(handler: handler) { server in
            var client: TestClient? = try TestClient(port: server.port)
            try client!.send("GET /forever HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(waitUntil { kept.withLock { $0 != nil } })
            client = nil  // closed for good: the probe's bytes meet a reset
            #expect(cancelled.wait(timeout: .now() + 3) == .success)
            #expect(server.counters.snapshot.openConnections == 0)
        }
    }
}
