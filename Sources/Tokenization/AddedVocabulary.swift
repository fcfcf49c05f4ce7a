/// One entry of tokenizer.json's `added_tokens`.
public struct AddedToken: Sendable, Equatable {
    public let id: Int32
    public let content: String
    public let special: Bool
    public let singleWord: Bool
    public let lstrip: Bool
    public let rstrip: Bool
    public let normalized: Bool

    init(_ json: JSONObject) throws {
        id = Int32(try json.int("id"))
        content = try json.string("content")
        special = try json.bool("special", default: false)
        singleWord = try json.bool("single_word", default: false)
        lstrip = try json.bool("lstrip", default: false)
        rstrip = try json.bool("rstrip", default: false)
        normalized = try json.bool("normalized", default: !special)
    }
}

/// Finds added tokens in the input before pre-tokenization, as the library does: leftmost-longest
/// matching, then the `single_word` / `lstrip` / `rstrip` rules. Text between matches goes on to
/// the normalizer, pre-tokenizer and model; matched tokens become their id directly.
struct AddedTokenMatcher: Sendable {
    /// Candidates by first byte, longest first (so the first hit at a position is the longest).
    private let byFirstByte: [[(bytes: [UInt8], token: AddedToken)]]
    /// Whether any token starts with the byte (a quick filter for the scan).
    private let isFirstByte: [Bool]

    init(_ tokens: [AddedToken]) {
        var table = [[(bytes: [UInt8], token: AddedToken)]](repeating: [], count: 256)
        for token in tokens where !token.content.isEmpty {
            let bytes = Array(token.content.utf8)
            table[Int(bytes[0])].append((bytes, token))
        }
        for i in 0..<256 { table[i].sort { $0.bytes.count > $1.bytes.count } }
        byFirstByte = table
        isFirstByte = table.map { !$0.isEmpty }
    }

    var isEmpty: Bool { !isFirstByte.contains(true) }

    /// A piece of the input: `token` set for an added token, nil for text to tokenize.
    struct Piece {
        let range: Range<Int>
        let token: AddedToken?
    }

    /// Splits `buf[range]`; special tokens are ignored (left as text) unless `parseSpecial`.
    func split(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, parseSpecial: Bool) -> [Piece] {
        var pieces = [Piece]()
        var textStart = range.lowerBound  // where the pending text piece starts
        var i = range.lowerBound
        while i < range.upperBound {
            guard isFirstByte[Int(buf[i])], let (token, length) = longestMatch(buf, i, range.upperBound) else {
                i += 1
                continue
            }
            var start = i
            var stop = i + length
            // The matcher moves past every match, even one discarded below, as aho-corasick does.
            i = stop
            if token.special && !parseSpecial { continue }
            if token.singleWord {
                let startSpace = start == range.lowerBound || !Self.isWordChar(lastScalar(buf, range.lowerBound, start))
                let stopSpace = stop == range.upperBound || !Self.isWordChar(firstScalar(buf, stop))
                if !startSpace || !stopSpace { continue }
            }
            if token.lstrip {
                var s = start
                while s > range.lowerBound, let scalar = lastScalar(buf, range.lowerBound, s), scalar.properties.isWhitespace {
                    s -= scalar.utf8.count
                }
                start = max(s, textStart)
            }
            if token.rstrip {
                while stop < range.upperBound, let scalar = firstScalar(buf, stop), scalar.properties.isWhitespace {
                    stop += scalar.utf8.count
                }
            }
            if textStart < start { pieces.append(Piece(range: textStart..<start, token: nil)) }
            pieces.append(Piece(range: start..<stop, token: token))
            textStart = stop
        }
        if textStart < range.upperBound { pieces.append(Piece(range: textStart..<range.upperBound, token: nil)) }
        return pieces
    }

    private func longestMatch(_ buf: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int) -> (AddedToken, Int)? {
        for candidate in byFirstByte[Int(buf[i])] where candidate.bytes.count <= end - i {
            var j = 1
            while j < candidate.bytes.count && buf[i + j] == candidate.bytes[j] { j += 1 }
            if j == candidate.bytes.count { return (candidate.token, j) }
        }
        return nil
    }

    /// The regex `\w` class the library's `single_word` check uses: Alphabetic, marks, decimal
    /// digits, connector punctuation and the zero-width joiners.
    private static func isWordChar(_ scalar: Unicode.Scalar?) -> Bool {
        guard let scalar else { return false }
        let properties = scalar.properties
        if properties.isAlphabetic || properties.isJoinControl { return true }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    private func firstScalar(_ buf: UnsafeBufferPointer<UInt8>, _ i: Int) -> Unicode.Scalar? {
        Unicode.Scalar(decodeUTF8(buf, i).value)
    }

    /// The scalar that ends just before `end` (not before `floor`).
    private func lastScalar(_ buf: UnsafeBufferPointer<UInt8>, _ floor: Int, _ end: Int) -> Unicode.Scalar? {
        guard end > floor else { return nil }
        var s = end - 1
        while s > floor && buf[s] & 0xC0 == 0x80 { s -= 1 }
        return Unicode.Scalar(decodeUTF8(buf, s).value)
    }
}
