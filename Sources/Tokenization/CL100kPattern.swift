/// Scanner equivalent to the cl100k / Llama 3 pre-tokenization regex as Oniguruma runs it:
///
///     (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
///
/// Unlike GPT-2's, letters take one leading non-letter (" word", "(word"), numbers go in groups of
/// at most three, and newlines stick to the punctuation or whitespace before them.
struct CL100kPattern: SplitPattern {
    func forEachMatch(in buf: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        var i = 0
        while i < buf.count {
            let end = matchEnd(buf, i)
            body(i..<end)
            i = end
        }
    }

    @inline(__always)
    private static func isNewline(_ byte: UInt8) -> Bool { byte == 0x0A || byte == 0x0D }

    /// Length of a case-insensitive contraction at `start` ("'s", "'RE", ...), or 0.
    private func contractionLength(_ buf: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int {
        let n = buf.count
        guard buf[start] == UInt8(ascii: "'"), start + 1 < n else { return 0 }
        let c1 = buf[start + 1] | 0x20  // ASCII lower case (harmless for the non-letters compared below)
        switch c1 {
        case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"):
            return 2
        case UInt8(ascii: "r"), UInt8(ascii: "v"):
            return start + 2 < n && buf[start + 2] | 0x20 == UInt8(ascii: "e") ? 3 : 0
        case UInt8(ascii: "l"):
            return start + 2 < n && buf[start + 2] | 0x20 == UInt8(ascii: "l") ? 3 : 0
        default:
            // U+017F LATIN SMALL LETTER LONG S case-folds to "s" (UTF-8 C5 BF).
            return start + 2 < n && buf[start + 1] == 0xC5 && buf[start + 2] == 0xBF ? 3 : 0
        }
    }

    private func run(_ buf: UnsafeBufferPointer<UInt8>, from start: Int, of cls: CharClass) -> Int {
        var i = start
        while i < buf.count {
            let (c, l) = classAt(buf, i)
            if c != cls { break }
            i += l
        }
        return i
    }

    func matchEnd(_ buf: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int {
        let n = buf.count
        let contraction = contractionLength(buf, start)
        if contraction > 0 { return start + contraction }
        let first = buf[start]
        let (cls, len) = classAt(buf, start)
        // `[^\r\n\p{L}\p{N}]?\p{L}+`
        if cls == .letter { return run(buf, from: start + len, of: .letter) }
        if cls != .number && !Self.isNewline(first) && start + len < n && classAt(buf, start + len).0 == .letter {
            return run(buf, from: start + len, of: .letter)
        }
        // `\p{N}{1,3}`
        if cls == .number {
            var i = start + len
            var count = 1
            while count < 3 && i < n {
                let (c, l) = classAt(buf, i)
                if c != .number { break }
                i += l
                count += 1
            }
            return i
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        var otherStart = -1
        if cls == .other {
            otherStart = start
        } else if first == 0x20 && start + 1 < n && classAt(buf, start + 1).0 == .other {
            otherStart = start + 1
        }
        if otherStart >= 0 {
            var i = run(buf, from: otherStart, of: .other)
            while i < n && Self.isNewline(buf[i]) { i += 1 }
            return i
        }
        // Whitespace: `\s*[\r\n]+` ends after the run's last newline; otherwise as in GPT-2.
        var i = start
        var lastStart = start
        var afterNewline = -1
        while i < n {
            let (c, l) = classAt(buf, i)
            if c != .whitespace { break }
            if Self.isNewline(buf[i]) { afterNewline = i + 1 }
            lastStart = i
            i += l
        }
        if afterNewline >= 0 { return afterNewline }
        if i == n || lastStart == start { return i }
        return lastStart
    }
}
