/// Scanner equivalent to the GPT-2 pre-tokenization regex as the library's engine (Oniguruma) runs it:
///
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// Alternatives are tried in order at each position (leftmost-first). Every character falls in one
/// of the classes, so the matches tile the input.
struct GPT2Pattern: SplitPattern {
    func forEachMatch(in buf: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        var i = 0
        while i < buf.count {
            let end = matchEnd(buf, i)
            body(i..<end)
            i = end
        }
    }

    /// End of the match that starts at `start`.
    @inline(__always)
    func matchEnd(_ buf: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int {
        let n = buf.count
        let first = buf[start]
        if first == UInt8(ascii: "'"), start + 1 < n {
            let c1 = buf[start + 1]
            switch c1 {
            case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"):
                return start + 2
            case UInt8(ascii: "r"), UInt8(ascii: "v"):
                if start + 2 < n && buf[start + 2] == UInt8(ascii: "e") { return start + 3 }
            case UInt8(ascii: "l"):
                if start + 2 < n && buf[start + 2] == UInt8(ascii: "l") { return start + 3 }
            default: break
            }
        }
        var (cls, len) = classAt(buf, start)
        var runStart = start
        // ` ?X+`: a single ASCII space joins a following letter, number or "other" run.
        if first == 0x20, start + 1 < n {
            let (nextClass, nextLen) = classAt(buf, start + 1)
            if nextClass != .whitespace {
                cls = nextClass
                len = nextLen
                runStart = start + 1
            }
        }
        if cls != .whitespace {
            var i = runStart + len
            while i < n {
                let (c, l) = classAt(buf, i)
                if c != cls { break }
                i += l
            }
            return i
        }
        // `\s+(?!\S)` then `\s+`: a whitespace run leaves its last character to the next word.
        var i = start + len
        var lastStart = start
        while i < n {
            let (c, l) = classAt(buf, i)
            if c != .whitespace { break }
            lastStart = i
            i += l
        }
        if i == n || lastStart == start { return i }
        return lastStart
    }
}
