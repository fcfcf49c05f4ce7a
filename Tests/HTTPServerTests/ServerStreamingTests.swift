import Foundation
import Synchronization
import Testing
@testable import HTTPServer
import MonotonicTime
import TestSupport

@Suite("Server over real sockets: streaming, cross-thread answers, cancellation, drain")
struct ServerStreamingTests {
    @Test func chunkedStreamIsAssembled() throws {
        let handler: HTTPHandler = { _, responder in
            responder.startStream(status: .ok, headers: ["Content-Type": "text/event-stream"])
            for piece in ["data: one\n\n", "data: two\n\n", "", "data: [DONE]\n\n"] { responder.write(piece) }
            responder.finish()
        }
        try withServer(handler: handler) { server in
            let client = try TestClient(port: server.port)
            try client.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try #require(try client.readResponse())
            #expect(response.headers["Transfer-Encoding"] == "chunked")
            #expect(response.headers["Content-Type"] == "text/event-stream")
            #expect(response.bodyText == "data: one\n\ndata: two\n\ndata: [DONE]\n\n")
            #expect(response.chunks == 3)
            // The connection stays usable after a chunked response.
            try client.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try client.readResponse()?.chunks == 3)
        }
    }

    @Test func streamProducedOnAnotherThread() throws {
        let handler: HTTPHandler = { _, responder in
            let thread = Thread {
                responder.startStream(status: .ok)
                for i in 0..<100 {
                    responder.write("token\(i) ")
                    if i % 10 == 0 { usleep(1_000) }
                }
                responder.finish()
            }
            thread.start()
        }
        try withServer(handler: handler) { server in
            let client = try TestClient(port: server.port)
            for _ in 0..<3 {
                try client.send("GET /gen HTTP/1.1\r\nHost: x\r\n\r\n")
                let response = try #require(try client.readResponse())
                #expect(response.bodyText == (0..<100).map { "token\($0) " }.joined())
            }
        }
    }

    @Test func http10StreamIsCloseDelimited() throws {
        let handler: HTTPHandler = { _, responder in
            responder.startStream(status: .ok)
            responder.write("a")
            responder.write("b")
            responder.finish()
        }
        try withServer(handler: handler) { server in
            let client = try TestClient(port: server.port)
            try client.send("GET / HTTP/1.0\r\n\r\n")
            let response = try #require(try client.readResponse())
            #expect(response.headers["Transfer-Encoding"] == nil)
            #expect(response.bodyText == "ab")
        }
    }

    @Test func disconnectDuringStreamFiresCancellation() throws {
        let cancelled = DispatchSemaphore(value: 0)
        let producerDone = DispatchSemaphore(value: 0)
        let writesAfterCancel = Atomic<Int>(0)
        let handler: HTTPHandler = { _, responder in
            responder.onCancel { cancelled.signal() }
            Thread {
                responder.startStream(status: .ok)
                while !responder.isCancelled {
                    responder.write("tick ")
                    usleep(2_000)
                }
                // Harmless no-ops once the client is gone.
                if !responder.write("late") && !responder.finish() { writesAfterCancel.add(1, ordering: .relaxed) }
                producerDone.signal()
            }.start()
        }
        try withServer(handler: handler) { server in
            var client: TestClient? = try TestClient(port: server.port)
            try client!.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
            _ = try client!.readHead()
            client = nil  // closes the socket mid-stream
            #expect(cancelled.wait(timeout: .now() + 3) == .success)
            #expect(producerDone.wait(timeout: .now() + 3) == .success)
            #expect(writesAfterCancel.load(ordering: .relaxed) == 1)
        }
    }

    @Test func cancellationRegisteredLateStillRuns() throws {
        let cancelled = DispatchSemaphore(value: 0)
        let kept = Mutex<HTTPResponder?>(nil)
        let handler: HTTPHandler = { _, responder in kept.withLock { $0 = responder } }
        try withServer(handler: handler) { server in
            var client: TestClient? = try TestClient(port: server.port)
            try client!.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(waitUntil { kept.withLock { $0 != nil } })
            client = nil
            let responder = try #require(kept.withLock { $0 })
            let deadline = monotonicSeconds() + 3
            while !responder.isCancelled && monotonicSeconds() < deadline { usleep(1_000) }
            responder.onCancel { cancelled.signal() }
            #expect(cancelled.wait(timeout: .now()) == .success)
            #expect(responder.respond(status: .ok) == false)
        }
    }

    @Test func unboundedProducerToNonReaderIsCutOff() throws {
        let cancelled = DispatchSemaphore(value: 0)
        let handler: HTTPHandler = { _, responder in
            responder.onCancel { cancelled.signal() }
            Thread {
                responder.startStream(status: .ok)
                let piece = [UInt8](repeating: 0x61, count: 16 * 1024)
                while responder.write(piece) {}
            }.start()
        }
        var config = ServerConfiguration()
        config.maxOutputBufferBytes = 256 * 1024
        try withServer(config, handler: handler) { server in
            let client = try TestClient(port: server.port)
            client.shrinkReceiveBuffer()
            try client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(cancelled.wait(timeout: .now() + 5) == .success)
            _ = client
        }
    }

    @Test func gracefulDrainLetsInFlightRequestFinish() throws {
        let kept = Mutex<HTTPResponder?>(nil)
        let handler: HTTPHandler = { _, responder in kept.withLock { $0 = responder } }
        try withServer(handler: handler) { server in
            let busy = try TestClient(port: server.port)
            try busy.send("GET /work HTTP/1.1\r\nHost: x\r\n\r\n")
            let idle = try TestClient(port: server.port)
            #expect(waitUntil { kept.withLock { $0 != nil } })
            server.stopAccepting()
            #expect(idle.waitForClose())  // idle connection closed by the drain
            #expect(throws: TestClientError.self) { _ = try TestClient(port: server.port) }
            #expect(server.waitUntilDrained(timeout: .milliseconds(50)) == false)
            #expect(kept.withLock { $0 }!.respond(status: .ok, body: "done"))
            let response = try #require(try busy.readResponse())
            #expect(response.bodyText == "done")
            #expect(response.headers["Connection"] == "close")
            #expect(server.waitUntilDrained(timeout: .seconds(3)))
        }
    }

    @Test func stopCancelsInFlightRequests() throws {
        let cancelled = DispatchSemaphore(value: 0)
        let handler: HTTPHandler = { _, responder in responder.onCancel { cancelled.signal() } }
        let server = Server(handler: handler)
        try server.start()
        let client = try TestClient(port: server.port)
        try client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(waitUntil { server.counters.snapshot.requestsParsed > 0 })
        server.stop()
        #expect(cancelled.wait(timeout: .now() + 3) == .success)
        #expect(client.waitForClose())
    }
}
