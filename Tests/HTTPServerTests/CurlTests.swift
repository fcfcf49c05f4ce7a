import Foundation
import Testing
@testable import HTTPServer

/// The same server spoken to by a real client implementation.
@Suite("Server with curl")
struct CurlTests {
    func curl(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-s", "--max-time", "5"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test(.enabled(if: toolTestsEnabled(curlPath)))
    func curlGetPostAndStream() throws {
        let handler: HTTPHandler = { request, responder in
            if request.path == "/stream" {
                DispatchQueue.global().async {
                    responder.startStream(status: .ok)
                    for i in 0..<5 { responder.write("part\(i);") }
                    responder.finish()
                }
            } else {
                echoHandler(request, responder)
            }
        }
        try withServer(handler: handler) { server in
            let base = "http://127.0.0.1:\(server.port)"
            // Two URLs in one curl run reuse the connection.
            let get = try curl(["\(base)/a", "\(base)/b?q=1"])
            #expect(get.status == 0)
            #expect(get.output == "GET /a GET /b ")
            #expect(server.counters.snapshot.acceptedConnections == 1)
            let post = try curl(["-H", "Expect: 100-continue", "--data-binary", "payload", "\(base)/p"])
            #expect(post.output == "POST /p payload")
            let chunkedUpload = try curl(["-H", "Transfer-Encoding: chunked", "--data-binary", "xyz", "\(base)/c"])
            #expect(chunkedUpload.output == "POST /c xyz")
            let stream = try curl(["\(base)/stream"])
            #expect(stream.output == "part0;part1;part2;part3;part4;")
            let head = try curl(["-I", "\(base)/h"])
            #expect(head.output.hasPrefix("HTTP/1.1 200 OK"))
            #expect(head.output.contains("Content-Length: 8"))
        }
    }
}
