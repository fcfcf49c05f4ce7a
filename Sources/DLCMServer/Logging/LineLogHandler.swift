import Foundation
import Logging

/// A swift-log handler writing one line per record, as text or JSON, through `LogSink` (stderr
/// by default). Text: `2026-11-23T12:00:00.123Z info request id=... route=/v1/completions status=200`;
/// JSON: `{"ts":"...","level":"info","msg":"request","id":"...",...}`.
///
///     LoggingSystem.bootstrap { _ in LineLogHandler(format: .text, level: .info) }
public struct LineLogHandler: LogHandler {
    public enum Format: String, Sendable, CaseIterable {
        case text, json
    }

    public var format: Format
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let sink: LogSink

    public init(format: Format = .text, level: Logger.Level = .info, sink: LogSink = .standardError) {
        self.format = format
        self.logLevel = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { $1 } }
        if let extra = event.metadata { fields.merge(extra) { $1 } }
        if let error = event.error { fields["error"] = .string("\(error)") }
        let record = LogRecord(time: Date(), level: event.level, message: event.message.description, fields: fields)
        sink.write(format == .json ? record.jsonLine : record.textLine)
    }
}

/// Where log lines go. Each line is written with one `write(2)`, under a lock, so lines from
/// different threads never interleave.
public final class LogSink: Sendable {
    private let write: @Sendable (String) -> Void

    public init(_ write: @escaping @Sendable (String) -> Void) { self.write = write }

    public func write(_ line: String) { write(line) }

    public static let standardError = LogSink { line in
        stderrLock.withLock {
            var bytes = Array((line + "\n").utf8)
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeMutableBytes { Foundation.write(2, $0.baseAddress! + offset, $0.count - offset) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
    }
}

private let stderrLock = NSLock()
