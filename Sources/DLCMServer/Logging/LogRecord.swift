import Foundation
import Logging

/// One log record rendered as a text or JSON line. Known fields come first in a fixed order
/// (the request id first, so lines of one request line up); the rest follow sorted by name.
struct LogRecord {
    var time: Date
    var level: Logger.Level
    var message: String
    var fields: Logger.Metadata

    static let leadingKeys = [
        "id", "method", "route", "status", "prompt_tokens", "completion_tokens", "ttft_ms", "duration_ms", "finish_reason",
    ]

    var orderedKeys: [String] {
        let first = Self.leadingKeys.filter { fields[$0] != nil }
        return first + fields.keys.filter { !Self.leadingKeys.contains($0) }.sorted()
    }

    var textLine: String {
        var line = "\(Self.timestamp(time)) \(level.rawValue) \(message)"
        for key in orderedKeys {
            line += " \(key)=\(Self.text(fields[key]!))"
        }
        return line
    }

    var jsonLine: String {
        var object: [(String, JSON)] = [("ts", .string(Self.timestamp(time))), ("level", .string(level.rawValue)), ("msg", .string(message))]
        for key in orderedKeys where !["ts", "level", "msg"].contains(key) {
            object.append((key, Self.json(fields[key]!)))
        }
        return String(decoding: JSON.object(object).bytes, as: UTF8.self)
    }

    /// Bare when it is one plain word, else a JSON string (quotes, spaces, newlines escaped), so
    /// a line always splits cleanly on spaces outside quotes.
    static func text(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let s): return quotedIfNeeded(s)
        case .stringConvertible(let c): return quotedIfNeeded(c.description)
        case .array, .dictionary: return String(decoding: json(value).bytes, as: UTF8.self)
        }
    }

    private static func quotedIfNeeded(_ s: String) -> String {
        let plain = !s.isEmpty && s.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "=" }
        return plain ? s : String(decoding: JSON.string(s).bytes, as: UTF8.self)
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

    /// ISO 8601 in UTC with milliseconds: `2026-11-23T12:00:00.123Z`. Digits are appended by
    /// hand: this runs once per request on the event loop, and `String(format:)` costs more than
    /// the rest of the line.
    static func timestamp(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(ms / 1000)
        var t = tm()
        gmtime_r(&seconds, &t)
        var out: [UInt8] = []
        out.reserveCapacity(24)
        func digits(_ value: Int, _ width: Int, then separator: Character) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var v = value
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(v / divisor % 10))
                v %= divisor
                divisor /= 10
            }
            out.append(UInt8(ascii: separator.unicodeScalars.first!))
        }
        digits(Int(t.tm_year) + 1900, 4, then: "-")
        digits(Int(t.tm_mon) + 1, 2, then: "-")
        digits(Int(t.tm_mday), 2, then: "T")
        digits(Int(t.tm_hour), 2, then: ":")
        digits(Int(t.tm_min), 2, then: ":")
        digits(Int(t.tm_sec), 2, then: ".")
        digits(Int(ms % 1000), 3, then: "Z")
        return String(decoding: out, as: UTF8.self)
    }
}
