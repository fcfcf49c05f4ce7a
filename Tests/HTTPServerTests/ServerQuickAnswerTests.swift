import Foundation
import Testing
@testable import HTTPServer
import TestSupport

/// Quick answers (`QuickHandler`): written by the loop itself, they must be the bytes a responder
/// would send for the same status, headers and body (HEAD, HTTP/1.0, Connection: close), keep
/// their place among pipelined requests, and never take a request with a body.
@Suite("Server over real sockets: quick answers")
struct ServerQuickAnswerTests {
    static let lines = Array("Content-Type: text/plain\r\nX-Kind: probe\r\n".utf8)

    static func server(_ body: (Server) throws -> Void) throws {
        let quick: QuickHandler = { head, answer in
            guard head.path == "/q" else { return false }
            answer.status = head.headers["X-Fail"] == nil ? .ok : .serviceUnavailable
            answer.headerLines += lines
            answer.body += "quick".utf8
            return true
        }
        let handler: HTTPHandler = { request, responder in
            switch request.path {
            case "/slow":
                DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) { responder.respond(status: .ok, body: "slow") }
            case "/same":
                responder.respond(status: request.headers["X-Fail"] == nil ? .ok : .serviceUnavailable,
                                  headers: ["Content-Type": "text/plain", "X-Kind": "probe"], body: "quick")
            default:
                responder.respond(status: .ok, body: "handler \(request.path) \(String(decoding: request.body, as: UTF8.self))")
            }
        }
        let server = Server(quick: quick, handler: handler)
        try server.start()
        defer { server.stop() }
        try body(server)
    }

    /// Every header but Date's value, in order.
    static func shape(_ r: TestResponse) -> [String] {
        r.headers.map { $0.name == "Date" ? "Date" : "\($0.name): \($0.value)" }
    }

    @Test(arguments: [
        ("GET", "HTTP/1.1", ""), ("HEAD", "HTTP/1.1", ""), ("GET", "HTTP/1.0", ""), ("GET", "HTTP/1.0", "Connection: keep-alive\r\n"),
        ("GET", "HTTP/1.1", "Connection: close\r\n"), ("GET", "HTTP/1.1", "X-Fail: 1\r\n"),
    ])
    func theSameBytesAsAResponder(method: String, version: String, extra: String) throws {
        try Self.server { server in
            func ask(_ path: String) throws -> (TestResponse, closed: Bool) {
                let client = try TestClient(port: server.port)
                try client.send("\(method) \(path) \(version)\r\nHost: x\r\n\(extra)\r\n")
                let r = try #require(try client.readResponse(isHead: method == "HEAD"))
                let closes = version == "HTTP/1.0" && extra.isEmpty || extra.contains("close")
                return (r, closes ? client.waitForClose() : false)
            }
            let (quick, quickClosed) = try ask("/q")
            let (slow, slowClosed) = try ask("/same")
            #expect(quick.status == slow.status)
            #expect(Self.shape(quick) == Self.shape(slow))
            #expect(quick.body == slow.body)
            #expect(quickClosed == slowClosed)
            #expect(quick.headers["Date"] != nil)
        }
    }

    @Test func pipelinedQuickAnswersKeepTheirPlace() throws {
        try Self.server { server in
            let client = try TestClient(port: server.port)
            try client.send("GET /q HTTP/1.1\r\nHost: x\r\n\r\nGET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /q HTTP/1.1\r\nHost: x\r\n\r\n"
                            + "POST /q HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody" + "GET /q?x=1 HTTP/1.1\r\nHost: x\r\n\r\n")
            let bodies = try (0..<5).map { _ in try #require(try client.readResponse()).bodyText }
            // A request with a body is never answered quickly.
            #expect(bodies == ["quick", "slow", "quick", "handler /q body", "quick"])
            #expect(server.counters.snapshot.requestsParsed == 5)
        }
    }
}
