import Foundation
import Testing
import TestSupport

/// SIGTERM on the real binary: /ready turns 503 or the port refuses at once, a stream in flight
/// still finishes with [DONE], and the process exits 0; a second signal exits at once.
@Suite(.serialized) struct DrainTests {
    static let choices = 16

    /// One sequence at a time and n = 16 choices of 500 tokens: a stream of a few seconds on the
    /// tiny fixture (a minute under TSan), long enough to still be running while the drain is
    /// checked; the drain timeout leaves room for the slowest build.
    static func startLongStream(drainTimeout: String = "300") throws -> (ServeProcess, Int, TestClient) {
        let p = try ServeProcess(["serve", "--port", "0", "--threads", "1", "--max-batch", "1", "--max-n", "\(choices)",
                                  "--max-queue", "64", "--drain-timeout", drainTimeout])
        let port = try p.waitForPort()
        let client = try TestClient(port: port, receiveTimeout: 20)
        try client.request("POST", "/v1/completions",
                           body: Array(#"{"prompt":"Once","max_tokens":500,"n":\#(choices),"ignore_eos":true,"stream":true}"#.utf8),
                           headers: [("X-Request-Id", "long-stream")])
        #expect(try client.expectHead().status == 200)
        _ = try client.readChunk()   // the first event: the stream is running
        return (p, port, client)
    }

    /// Whether the server no longer takes work: a connection is refused, or /ready says 503.
    static func notReady(port: Int) -> Bool {
        guard let client = try? TestClient(port: port, receiveTimeout: 2) else { return true }
        guard (try? client.request("GET", "/ready")) != nil, let r = try? client.expectResponse() else { return true }
        return r.status == 503
    }

    static func refuses(port: Int) -> Bool { (try? TestClient(port: port, receiveTimeout: 20)) == nil }

    @Test func sigtermDrainsStreamsThenExitsZero() throws {
        let (p, port, client) = try Self.startLongStream()
        p.signal(SIGTERM)
        #expect(ServeProcess.eventually(seconds: 2) { Self.notReady(port: port) })
        #expect(ServeProcess.eventually(seconds: 2) { Self.refuses(port: port) })
        // The process is still draining while it refuses: the stream is in flight.
        #expect(!p.standardError.contains(" info stopped"))

        var body: [UInt8] = []
        while let chunk = try client.readChunk() { body += chunk }
        let stream = TestResponse(status: 200, headers: [:], body: body)
        #expect(stream.events.last == "[DONE]")
        let finishes = stream.eventObjects.compactMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String }
        #expect(finishes.count == Self.choices)   // every choice ends in the rest of the stream
        #expect(finishes.allSatisfy { $0 == "length" })

        #expect(p.waitForExit(seconds: 300) == 0)
        let lines = p.errorLines
        let request = try #require(lines.first { $0.contains("id=long-stream ") })
        let fields = LogCapture.fields(request)
        #expect(fields["status"] == "200")
        #expect(fields["completion_tokens"] == String(Self.choices * 500))
        #expect(fields["finish_reason"] == "length")
        #expect(lines.contains { $0.contains(" info draining ") && $0.contains("signal=SIGTERM") })
        #expect(lines.last?.hasSuffix(" info stopped") == true, "\(lines.suffix(3))")
    }

    @Test func secondSignalExitsAtOnce() throws {
        let (p, port, client) = try Self.startLongStream()
        p.signal(SIGTERM)
        #expect(ServeProcess.eventually(seconds: 5) { p.standardError.contains(" info draining ") })
        // "draining" is logged just before the listener closes: under load the check can come first.
        #expect(ServeProcess.eventually(seconds: 2) { Self.refuses(port: port) || Self.notReady(port: port) })
        let sent = Date()
        p.signal(SIGTERM)
        #expect(p.waitForExit(seconds: 5) == 128 + SIGTERM)
        #expect(Date().timeIntervalSince(sent) < 2)
        #expect(p.standardError.contains("second signal"))
        // The stream was cut: it ends without [DONE].
        var body: [UInt8] = []
        do { while let chunk = try client.readChunk() { body += chunk } } catch {}
        #expect(!String(decoding: body, as: UTF8.self).contains("[DONE]"))
    }

    @Test func drainTimeoutCutsWhatIsLeftAndStillExitsZero() throws {
        let (p, _, client) = try Self.startLongStream(drainTimeout: "0.2")
        p.signal(SIGTERM)
        #expect(p.waitForExit(seconds: 30) == 0)
        // The choices still running end as "cancelled", the stream still closes properly, and
        // the log says the drain timed out.
        var body: [UInt8] = []
        do { while let chunk = try client.readChunk() { body += chunk } } catch {}
        let stream = TestResponse(status: 200, headers: [:], body: body)
        let finishes = stream.eventObjects.compactMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String }
        #expect(finishes.contains("cancelled"))
        #expect(stream.events.last == "[DONE]")
        #expect(p.standardError.contains("drain timed out"))
        let request = try #require(p.errorLines.first { $0.contains("id=long-stream ") })
        #expect(LogCapture.fields(request)["finish_reason"]?.contains("cancelled") == true, "\(request)")
    }

    @Test func sigintDrainsToo() throws {
        let p = try ServeProcess(["serve", "--port", "0"])
        let port = try p.waitForPort()
        #expect(try TestClient.get(port: port, "/ready").status == 200)
        p.signal(SIGINT)
        #expect(p.waitForExit(seconds: 30) == 0)
        #expect(p.standardError.contains("signal=SIGINT"))
    }
}
