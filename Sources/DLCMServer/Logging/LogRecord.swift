import Foundation
import Logging
import StrictJSON

/// One log record rendered as a text or JSON line. Known fields come first in a fixed order
/// (the request id first, so lines of one request line up); the rest follow sorted by name.
struct LogRecord {
    var time: Date
    var level: Logger.Level
    var message: String
    var fields: Logger.Metadata

    static let leadingKeys = [
        "id", "method", "route", "status", "prompt_tokens", "cached_tokens", "completion_tokens", "ttft_ms", "duration_ms", "finish_reason",
    ]
    private static let rank = Dictionary(uniqueKeysWithValues: leadingKeys.enumerated().map { ($1, $0) })

    /// The fields in line order (this runs for every request): the known ones looked up in
    /// their order, then any others sorted by name. (Sorting them all with a rank looked up in
    /// each comparison was a third of a request line's cost.)
    var orderedFields: [(key: String, value: Logger.MetadataValue)] {
        var out: [(key: String, value: Logger.MetadataValue)] = []
        out.reserveCapacity(fields.count)
        for key in Self.leadingKeys {
            if let value = fields[key] { out.append((key, value)) }
        }
        if out.count < fields.count {
            out += fields.filter { Self.rank[$0.key] == nil }.map { ($0.key, $0.value) }.sorted { $0.key < $1.key }
        }
        return out
    }

    var textLine: String { String(decoding: textBytes, as: UTF8.self) }
    var jsonLine: String { String(decoding: jsonBytes, as: UTF8.self) }

    /// The text line, without its newline. Built as bytes: one of these is written per request,
    /// on the event loop thread.
    var textBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        Self.appendTimestamp(time, to: &out)
        out.append(0x20)
        out += level.rawValue.utf8
        out.append(0x20)
        out += message.utf8
        for (key, value) in orderedFields {
            out.append(0x20)
            out += key.utf8
            out.append(UInt8(ascii: "="))
            Self.appendText(value, to: &out)
        }
        return out
    }

    var jsonBytes: [UInt8] {
        var ts: [UInt8] = []
        Self.appendTimestamp(time, to: &ts)
        var object: [(String, JSON)] = [("ts", .string(String(decoding: ts, as: UTF8.self))), ("level", .string(level.rawValue)),
                                        ("msg", .string(message))]
        for (key, value) in orderedFields where key != "ts" && key != "level" && key != "msg" {
            object.append((key, Self.json(value)))
        }
        return JSON.object(object).bytes
    }

    /// Bare when it is one plain word, else a JSON string (quotes, spaces, newlines escaped), so
    /// a line always splits cleanly on spaces outside quotes.
    static func text(_ value: Logger.MetadataValue) -> String {
        var out: [UInt8] = []
        appendText(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func appendText(_ value: Logger.MetadataValue, to out: inout [UInt8]) {
        switch value {
        case .string(let s): appendQuotedIfNeeded(s, to: &out)
        case .stringConvertible(let c): appendQuotedIfNeeded(c.description, to: &out)
        case .array, .dictionary: json(value).write(to: &out)
        }
    }

    private static func appendQuotedIfNeeded(_ s: String, to out: inout [UInt8]) {
        let plain = !s.isEmpty && s.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "=") }
        if plain { out += s.utf8 } else { JSON.writeString(s, to: &out) }
    }

    /// Numbers and booleans logged as such stay numbers in JSON.
    static func json(_ value: Logger.MetadataValue) -> JSON {
        switch value {
        case .string(let s): return .string(s)
        case .stringConvertible(let c):
            switch c {
            case let b as Bool: return .bool(b)
            case let i as Int: return .int(i)
            case let d as Double where d.isFinite: return .double(d)
            default: return .string(c.description)
            }
        case .array(let items): return .array(items.map(json))
        case .dictionary(let d): return .object(d.keys.sorted().map { ($0, json(d[$0]!)) })
        }
    }

    /// ISO 8601 in UTC with milliseconds: `2026-11-23T12:00:00.123Z`.
    static func timestamp(_ date: Date) -> String {
        var out: [UInt8] = []
        appendTimestamp(date, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Digits appended by hand: this runs once per request on the event loop, and
    /// `String(format:)` cost more than the rest of the line.
    static func appendTimestamp(_ date: Date, to out: inout [UInt8]) {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(ms / 1000)
        var t = tm()
        gmtime_r(&seconds, &t)
        func digits(_ value: Int, _ width: Int, then separator: UInt8) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var v = value
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(v / divisor % 10))
                v %= divisor
                divisor /= 10
            }
            out.append(separator)
        }
        digits(Int(t.tm_year) + 1900, 4, then: UInt8(ascii: "-"))
        digits(Int(t.tm_mon) + 1, 2, then: UInt8(ascii: "-"))
        digits(Int(t.tm_mday), 2, then: UInt8(ascii: "T"))
        digits(Int(t.tm_hour), 2, then: UInt8(ascii: ":"))
        digits(Int(t.tm_min), 2, then: UInt8(ascii: ":"))
        digits(Int(t.tm_sec), 2, then: UInt8(ascii: "."))
        digits(Int(ms % 1000), 3, then: UInt8(ascii: "Z"))
    }
}
