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
        // The common case (no handler metadata, no provider) takes the event's fields as they are.
        var fields = event.metadata ?? [:]
        if !metadata.isEmpty { fields.merge(metadata) { event, _ in event } }
        if let provided = metadataProvider?.get() { fields.merge(provided) { event, _ in event } }
        if let error = event.error { fields["error"] = .string("\(error)") }
        let record = LogRecord(time: Date(), level: event.level, message: event.message.description, fields: fields)
        sink.write(bytes: format == .json ? record.jsonBytes : record.textBytes)
    }
}

/// Where log lines go. Each line is written with one `write(2)`, under a lock, so lines from
/// different threads never interleave.
public final class LogSink: Sendable {
    private let writeLine: @Sendable ([UInt8]) -> Void

    /// A sink receiving each line as a String, without its newline (tests, other destinations).
    public init(_ write: @escaping @Sendable (String) -> Void) {
        writeLine = { write(String(decoding: $0, as: UTF8.self)) }
    }

    private init(bytes: @escaping @Sendable ([UInt8]) -> Void) { writeLine = bytes }

    public func write(_ line: String) { writeLine(Array(line.utf8)) }

    /// A line without its newline.
    func write(bytes line: [UInt8]) { writeLine(line) }

    public static let standardError = LogSink(bytes: { line in
        var bytes = line
        bytes.append(0x0A)
        stderrLock.withLock {
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { Foundation.write(2, $0.baseAddress! + offset, $0.count - offset) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
    })
}

private let stderrLock = NSLock()
