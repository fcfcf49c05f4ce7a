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

    /// Standard error, through a writer thread (`LogWriter`): logging never waits on the reader.
    public static let standardError = LogSink(bytes: { line in LogWriter.standardError.append(line) })

    /// Waits, at most `timeout` seconds, until the lines logged to standard error so far are
    /// written (before the process exits). False when the reader did not take them in time.
    @discardableResult
    public static func flushStandardError(timeout: Double = 2) -> Bool { LogWriter.standardError.flush(timeout: timeout) }
}


