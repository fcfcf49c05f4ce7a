/// Decodes ids one at a time for streaming output. It returns only complete UTF-8 text and holds back
/// the bytes of a character that a later token may still complete; the concatenation of everything
/// `append` and `finish` return equals `Tokenizer.decode` of all the ids.
public struct StreamingDetokenizer: Sendable {
    public let tokenizer: Tokenizer
    public let skipSpecial: Bool
    /// Bytes of an unfinished character (at most 3).
    private var pending: [UInt8] = []

    public init(tokenizer: Tokenizer, skipSpecial: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecial = skipSpecial
    }

    /// Text that became complete with `id` (possibly empty).
    public mutating func append(_ id: Int32) -> String {
        tokenizer.appendBytes(of: id, skipSpecial: skipSpecial, to: &pending)
        let cut = Self.completePrefixLength(pending)
        guard cut > 0 else { return "" }
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// Whatever is held back, with an unfinished character as U+FFFD; resets the stream.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Length of the prefix that can be decoded now: everything except a trailing sequence that is a
    /// proper prefix of some valid UTF-8 character. Cutting just before a lead byte never changes how
    /// the bytes on either side decode, so streamed and whole decoding agree even on invalid input.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        // A character is at most 4 bytes, so only a lead byte among the last 3 can be unfinished.
        var start = n - 1
        while start >= 0 && start >= n - 3 {
            let b = bytes[start]
            if b & 0xC0 != 0x80 {
                return isUnfinished(bytes[start...]) ? start : n
            }
            start -= 1
        }
        return n
    }

    /// Whether `tail` (a lead byte and continuation bytes) is a proper prefix of a valid character.
    private static func isUnfinished(_ tail: ArraySlice<UInt8>) -> Bool {
        let lead = tail[tail.startIndex]
        let length: Int
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default: return false
        }
        guard tail.count < length else { return false }
        if tail.count >= 2 {
            // Second-byte ranges that exclude overlong forms, surrogates and values past U+10FFFF.
            let second = tail[tail.startIndex + 1]
            let range: ClosedRange<UInt8>
            switch lead {
            case 0xE0: range = 0xA0...0xBF
            case 0xED: range = 0x80...0x9F
            case 0xF0: range = 0x90...0xBF
            case 0xF4: range = 0x80...0x8F
            default: range = 0x80...0xBF
            }
            if !range.contains(second) { return false }
        }
        return true
    }
}
