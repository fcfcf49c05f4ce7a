import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import HTTPServer
import MonotonicTime
import TestSupport

/// HTTPS on the same event loop: real clients (curl, openssl s_client), broken and stalled
/// handshakes, streaming, and start-up errors. Certificates are made at test time.
@Suite("TLS", .enabled(if: haveTLSTools))
struct TLSTests {
    /// Echo, plus a streamed body (/stream) and a large whole one (/big).
    static let handler: HTTPHandler = { request, responder in
        switch request.path {
        case "/stream":
            Thread {
                responder.startStream(status: .ok, headers: ["Content-Type": "text/event-stream"])
                for i in 0..<300 {
                    responder.write(streamPiece(i))
                    if i % 50 == 0 { usleep(2_000) }
                }
                responder.finish()
            }.start()
        case "/big":
            responder.respond(status: .ok, headers: ["Content-Type": "application/octet-stream"], body: bigBody)
        default:
            echoHandler(request, responder)
        }
    }

    static func streamPiece(_ i: Int) -> String {
        "data: \(i) " + String(repeating: "x", count: 1000) + "\n\n"
    }

    /// 2 MiB that no layer can shrink or reorder unnoticed.
    static let bigBody: [UInt8] = (0..<(2 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 13) }

    @Test func curlGetsOverKeepAlive() throws {
        try withTLSServer(handler: Self.handler) { server, cert in
            let base = "https://127.0.0.1:\(server.port)"
            let result = try curlTLS(cert, ["\(base)/a", "\(base)/b?q=1", "--next", "--cacert", cert.certificatePath, "-d", "payload", "\(base)/c"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.output == "GET /a GET /b POST /c payload")
            // Three requests, one connection, one handshake.
            let counters = server.counters.snapshot
            #expect(counters.acceptedConnections == 1)
            #expect(counters.tlsHandshakes == 1)
            #expect(counters.requestsParsed == 3)
        }
    }

    @Test func plainHTTPClientOnTLSPortIsRefusedAndOthersAreServed() throws {
        var configuration = ServerConfiguration()
        configuration.timeouts.tlsHandshake = .seconds(5)
        try withTLSServer(configuration, handler: Self.handler) { server, cert in
            // Plaintext HTTP, then binary junk, where a ClientHello should be.
            for garbage in [Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), [UInt8](repeating: 0xFF, count: 64)] {
                let client = try TestClient(port: server.port)
                let start = monotonicSeconds()
                try client.send(garbage)
                #expect(client.waitForClose())
                // Closed for being garbage, not by the 5 s handshake timeout.
                #expect(monotonicSeconds() - start < 2)
            }
            let result = try curlTLS(cert, ["https://127.0.0.1:\(server.port)/after"])
            #expect(result.output == "GET /after ")
            #expect(server.counters.snapshot.tlsHandshakeFailures == 2)
            #expect(server.counters.snapshot.tlsHandshakes == 1)
        }
    }

    @Test func stalledHandshakeIsClosedAtTimeoutWhileOthersAreServed() throws {
        var configuration = ServerConfiguration()
        configuration.timeouts.tlsHandshake = .seconds(2)
        configuration.timeouts.header = .seconds(30)  // so only the handshake deadline can fire
        try withTLSServer(configuration, handler: Self.handler) { server, cert in
            let start = monotonicSeconds()
            // One client says nothing; one sends the start of a ClientHello record (a header
            // announcing 512 bytes, then 6) and stops, so OpenSSL waits mid-record.
            let silent = try TestClient(port: server.port, receiveTimeout: 6)
            let partial = try TestClient(port: server.port, receiveTimeout: 6)
            try partial.send([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03])
            usleep(100_000)
            let served = try curlTLS(cert, ["https://127.0.0.1:\(server.port)/meanwhile"])
            let servedAfter = monotonicSeconds() - start
            #expect(served.output == "GET /meanwhile ")
            #expect(servedAfter < 1.8, "served after \(servedAfter) s")
            #expect(server.counters.snapshot.tlsHandshakeFailures == 0)  // both still held
            #expect(partial.waitForClose())
            #expect(silent.waitForClose())
            let closedAfter = monotonicSeconds() - start
            #expect(closedAfter >= 1.9 && closedAfter < 4.5, "closed after \(closedAfter) s")
            #expect(server.counters.snapshot.tlsHandshakeFailures == 2)
        }
    }

    @Test func streamedAndLargeResponsesArriveWhole() throws {
        try withTLSServer(handler: Self.handler) { server, cert in
            let base = "https://127.0.0.1:\(server.port)"
            let stream = try curlTLS(cert, ["\(base)/stream"])
            #expect(stream.status == 0, "\(stream.stderr)")
            #expect(stream.output == (0..<300).map(Self.streamPiece).joined())
            let raw = try curlTLS(cert, ["--raw", "\(base)/stream"])
            let first = Self.streamPiece(0)
            #expect(raw.output.hasPrefix(String(first.utf8.count, radix: 16) + "\r\n" + first))  // chunked on the wire
            let big = try curlTLS(cert, ["\(base)/big"])
            #expect(big.stdout.count == Self.bigBody.count)
            #expect([UInt8](big.stdout) == Self.bigBody)
        }
    }

    @Test func opensslClientNegotiatesHTTP11AndKeepsAlive() throws {
        try withTLSServer(handler: Self.handler) { server, cert in
            let requests = "GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            let result = try runTool(opensslPath, [
                "s_client", "-connect", "127.0.0.1:\(server.port)", "-CAfile", cert.certificatePath,
                "-verify_return_error", "-ign_eof", "-alpn", "h2,http/1.1",
            ], stdin: Data(requests.utf8))
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.output.contains("ALPN protocol: http/1.1"))
            #expect(result.output.contains("Verify return code: 0 (ok)"))
            #expect(result.output.components(separatedBy: "HTTP/1.1 200 OK").count == 3)
            #expect(result.output.contains("GET /one "))
            #expect(result.output.contains("GET /two "))
            #expect(server.counters.snapshot.tlsHandshakes == 1)
        }
    }

    @Test func unusableCertificateOrKeyIsAClearStartError() throws {
        let cert = try TestCertificate()
        defer { cert.remove() }
        let missing = cert.directory.appendingPathComponent("nope.pem").path
        let otherKey = try cert.makeOtherKey()
        let cases: [(TLSConfiguration, [String])] = [
            (TLSConfiguration(certificateChainPath: missing, privateKeyPath: cert.keyPath),
             ["TLS certificate", missing, "No such file or directory"]),
            (TLSConfiguration(certificateChainPath: cert.certificatePath, privateKeyPath: missing),
             ["TLS private key", missing, "No such file or directory"]),
            (TLSConfiguration(certificateChainPath: cert.keyPath, privateKeyPath: cert.keyPath),
             ["TLS certificate", cert.keyPath, "not a usable PEM certificate"]),
            (TLSConfiguration(certificateChainPath: cert.certificatePath, privateKeyPath: cert.certificatePath),
             ["TLS private key", "not a usable PEM private key"]),
            (TLSConfiguration(certificateChainPath: cert.certificatePath, privateKeyPath: otherKey),
             ["does not match the certificate"]),
        ]
        for (tls, phrases) in cases {
            let server = Server(configuration: ServerConfiguration(tls: tls), handler: echoHandler)
            do {
                try server.start()
                Issue.record("started with \(tls)")
                server.stop()
            } catch let error as TLSSetupError {
                for phrase in phrases {
                    #expect(error.description.contains(phrase), "\(error.description) lacks \(phrase)")
                }
                #expect(server.port == 0)  // failed before binding
                #expect(throws: TLSSetupError.self) { try tls.validate() }
            }
        }
        // The good pair passes the same check.
        try cert.tls.validate()
    }
}
