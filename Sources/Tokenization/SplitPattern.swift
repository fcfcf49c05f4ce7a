/// A split pattern recognised by its exact regex source and run by a hand-written scanner over
/// UTF-8 bytes: a regex engine would be slower, and these few patterns cover byte-level BPE models.
protocol SplitPattern: Sendable {
    /// Calls `body` with each match's byte range, in order and non-overlapping.
    func forEachMatch(in buf: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void)
}

enum SplitPatterns {
    static let gpt2 = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    static let cl100k = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// The scanner for a `Regex` pattern source; throws for any pattern without one.
    static func regex(_ source: String) throws -> SplitPattern {
        switch source {
        case gpt2: return GPT2Pattern()
        case cl100k: return CL100kPattern()
        default: throw TokenizerError.unsupported(stage: "Split regex", type: source)
        }
    }
}

/// Matches of a literal string (a `Split` pattern given as `{"String": ...}`).
struct LiteralPattern: SplitPattern {
    let needle: [UInt8]

    func forEachMatch(in buf: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        guard !needle.isEmpty, buf.count >= needle.count else { return }
        var i = 0
        while i <= buf.count - needle.count {
            var j = 0
            while j < needle.count && buf[i + j] == needle[j] { j += 1 }
            if j == needle.count {
                body(i..<(i + needle.count))
                i += needle.count
            } else {
                i += 1
            }
        }
    }
}
