@testable import DLCMServer
import Foundation
import Logging
import Testing

@Suite struct LogRecordTests {
    @Test func timestampIsISO8601UTCWithMilliseconds() {
        #expect(LogRecord.timestamp(Date(timeIntervalSince1970: 1_795_435_200.1234)) == "2026-11-23T12:00:00.123Z")   // date -u -d @1795435200
        #expect(LogRecord.timestamp(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
    }

    @Test func textPutsKnownFieldsFirstAndQuotesWhatNeedsIt() {
        let record = LogRecord(time: Date(timeIntervalSince1970: 0), level: .warning, message: "request", fields: [
            "zeta": "1", "status": .stringConvertible(200), "id": "abc", "note": "two words", "quote": "a\"b", "eq": "a=b", "empty": "",
        ])
        #expect(record.textLine == #"1970-01-01T00:00:00.000Z warning request id=abc status=200 empty="" eq="a=b" note="two words" quote="a\"b" zeta=1"#)
    }

    @Test func newlinesCannotSplitALine() {
        let record = LogRecord(time: Date(), level: .info, message: "request", fields: ["prompt": "line one\nline two"])
        #expect(!record.textLine.contains("\n"))
        #expect(!record.jsonLine.contains("\n"))
    }

    @Test func jsonKeepsNumbersAsNumbers() throws {
        let record = LogRecord(time: Date(timeIntervalSince1970: 0), level: .error, message: "request", fields: [
            "status": .stringConvertible(500), "duration_ms": .stringConvertible(1.5), "ok": .stringConvertible(false),
            "list": .array(["a", "b"]), "msg": "shadowed",
        ])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(record.jsonLine.utf8)) as? [String: Any])
        #expect(object["status"] as? Int == 500)
        #expect(object["duration_ms"] as? Double == 1.5)
        #expect(object["ok"] as? Bool == false)
        #expect(object["list"] as? [String] == ["a", "b"])
        #expect(object["msg"] as? String == "request")
        #expect(object["level"] as? String == "error")
    }

    @Test func handlerHonoursLevelAndMetadata() {
        let lines = LinesBox()
        var logger = Logger(label: "t") { _ in LineLogHandler(format: .text, level: .notice, sink: LogSink { lines.append($0) }) }
        logger[metadataKey: "component"] = "engine"
        logger.info("hidden")
        logger.notice("shown", metadata: ["n": .stringConvertible(3)])
        #expect(lines.all.count == 1)
        #expect(lines.all.first?.hasSuffix(" notice shown component=engine n=3") == true)
    }
}

final class LinesBox: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}

@Suite struct LogRecordTimestampTests {
    /// The hand-written digits against the C library's formatter, over many instants.
    @Test func matchesStrftime() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let ms = Int64.random(in: 0..<4_102_444_800_000, using: &rng)   // 1970...2099
            var seconds = time_t(ms / 1000)
            var t = tm()
            gmtime_r(&seconds, &t)
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = buffer.withUnsafeMutableBufferPointer { p in
                p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: 32) { strftime($0, 32, "%Y-%m-%dT%H:%M:%S", &t) }
            }
            let expected = String(decoding: buffer[..<n], as: UTF8.self) + "." + String(String(ms % 1000 + 1000).dropFirst()) + "Z"
            #expect(LogRecord.timestamp(Date(timeIntervalSince1970: Double(ms) / 1000 + 0.0001)) == expected)
        }
    }
}
