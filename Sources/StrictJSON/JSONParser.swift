/// A strict RFC 8259 parser, in one pass over the bytes: request bodies, and the headers of
/// checkpoint files (which come from outside too).
///
/// Why not Foundation's JSONDecoder: decoding an untyped value goes through `Decodable`, trying
/// each container kind and catching the thrown mismatch, about 10 µs per array element. A 1 MB
/// body of small array elements held the event loop (every connection) for 2-3.5 s. This parser
/// takes microseconds per kilobyte, and keeps object keys in document order.
///
/// What it accepts: UTF-8 only (a leading UTF-8 byte order mark is skipped where the caller
/// allows it), nesting up to `maxDepth`, numbers that fit a Double (integers without fraction or exponent that fit an
/// Int stay `.int`), escapes with surrogate pairs joined; a lone surrogate, a raw control byte in
/// a string, invalid UTF-8, or anything after the value is an error. So is a repeated object key:
/// parsers disagree on which value wins (Foundation keeps the first, Python's json the last), so a
/// proxy and this server could read different requests from the same bytes.
public struct JSONParser {
    /// The default nesting limit (request bodies).
    public static let defaultMaxDepth = 512

    public struct Failure: Error, CustomStringConvertible {
        /// Byte offset of the problem in the parsed text.
        public var offset: Int
        public var reason: String
        public var description: String { "\(reason) at byte \(offset)" }
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private let maxDepth: Int
    private var i = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) { self.bytes = bytes; self.maxDepth = maxDepth }

    /// Parses exactly one value, with optional whitespace around it.
    public static func parse(_ data: [UInt8], maxDepth: Int = defaultMaxDepth, skipByteOrderMark: Bool = true) throws(Failure) -> JSON {
        let result: Result<JSON, Failure> = data.withUnsafeBufferPointer { buffer in
            Result { () throws(Failure) -> JSON in try parse(buffer, maxDepth: maxDepth, skipByteOrderMark: skipByteOrderMark) }
        }
        return try result.get()
    }

    /// The same over bytes in place (a mapped file).
    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int = defaultMaxDepth,
                             skipByteOrderMark: Bool = true) throws(Failure) -> JSON {
        var parser = JSONParser(buffer, maxDepth: maxDepth)
        if skipByteOrderMark, buffer.count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { parser.i = 3 }
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.i == buffer.count else { throw parser.fail("unexpected data after the value") }
        return value
    }

    private func fail(_ reason: String) -> Failure { Failure(offset: i, reason: reason) }

    private var atEnd: Bool { i >= bytes.count }

    private mutating func skipWhitespace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1
            default: return
            }
        }
    }

    private mutating func expect(_ literal: StaticString, _ value: JSON) throws(Failure) -> JSON {
        let n = literal.utf8CodeUnitCount
        guard bytes.count - i >= n else { throw fail("invalid literal") }
        let p = literal.utf8Start
        for k in 0..<n where bytes[i + k] != p[k] { throw fail("invalid literal") }
        i += n
        return value
    }

    private mutating func value(depth: Int) throws(Failure) -> JSON {
        guard !atEnd else { throw fail("unexpected end") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try expect("true", .bool(true))
        case UInt8(ascii: "f"): return try expect("false", .bool(false))
        case UInt8(ascii: "n"): return try expect("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected byte")
        }
    }

    private mutating func array(depth: Int) throws(Failure) -> JSON {
        guard depth <= maxDepth else { throw fail("nested deeper than \(maxDepth)") }
        i += 1
        var items: [JSON] = []
        skipWhitespace()
        if !atEnd, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try value(depth: depth))
            skipWhitespace()
            guard !atEnd else { throw fail("unterminated array") }
            switch bytes[i] {
            case UInt8(ascii: ","): i += 1
            case UInt8(ascii: "]"): i += 1; return .array(items)
            default: throw fail("expected , or ]")
            }
        }
    }

    private mutating func object(depth: Int) throws(Failure) -> JSON {
        guard depth <= maxDepth else { throw fail("nested deeper than \(maxDepth)") }
        i += 1
        var pairs: [(String, JSON)] = []
        var keys = Set<String>()
        skipWhitespace()
        if !atEnd, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(pairs) }
        while true {
            skipWhitespace()
            guard !atEnd, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a key") }
            let keyOffset = i
            let key = try string()
            guard keys.insert(key).inserted else { throw Failure(offset: keyOffset, reason: "duplicate key") }
            skipWhitespace()
            guard !atEnd, bytes[i] == UInt8(ascii: ":") else { throw fail("expected :") }
            i += 1
            skipWhitespace()
            pairs.append((key, try value(depth: depth)))
            skipWhitespace()
            guard !atEnd else { throw fail("unterminated object") }
            switch bytes[i] {
            case UInt8(ascii: ","): i += 1
            case UInt8(ascii: "}"): i += 1; return .object(pairs)
            default: throw fail("expected , or }")
            }
        }
    }

    private mutating func string() throws(Failure) -> String {
        i += 1
        let start = i
        // Fast path: no escapes.
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                let s = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
                guard let s else { throw Failure(offset: start, reason: "invalid UTF-8 in a string") }
                i += 1
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw fail("control byte in a string") }
            i += 1
        }
        var out = Array(UnsafeBufferPointer(rebasing: bytes[start..<i]))
        while true {
            guard i < bytes.count else { throw fail("unterminated string") }
            let b = bytes[i]
            switch b {
            case UInt8(ascii: "\""):
                i += 1
                guard let s = String(validating: out, as: UTF8.self) else { throw Failure(offset: start, reason: "invalid UTF-8 in a string") }
                return s
            case UInt8(ascii: "\\"):
                i += 1
                guard i < bytes.count else { throw fail("unterminated string") }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard bytes.count - i >= 6, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                            throw fail("lone surrogate escape")
                        }
                        i += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail("lone surrogate escape") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw fail("lone surrogate escape")
                    }
                    out.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
                default:
                    throw fail("invalid escape")
                }
            default:
                if b < 0x20 { throw fail("control byte in a string") }
                out.append(b)
                i += 1
            }
        }
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard bytes.count - i >= 4 else { throw fail("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[i]
            let d: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw fail("invalid \\u escape")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    private mutating func digits() -> Int {
        let start = i
        while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") { i += 1 }
        return i - start
    }

    /// -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
    private mutating func number() throws(Failure) -> JSON {
        let start = i
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard !atEnd else { throw fail("invalid number") }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            guard digits() > 0 else { throw fail("invalid number") }
        }
        var integral = true
        if !atEnd, bytes[i] == UInt8(ascii: ".") {
            i += 1
            integral = false
            guard digits() > 0 else { throw fail("invalid number") }
        }
        if !atEnd, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            integral = false
            if !atEnd, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { throw fail("invalid number") }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        if integral, let n = Int(text) { return .int(n) }
        guard let d = Double(text), d.isFinite else { throw Failure(offset: start, reason: "number out of range") }
        return .double(d)
    }
}
