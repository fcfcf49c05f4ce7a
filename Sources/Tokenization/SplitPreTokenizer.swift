/// `Split`: cuts at the matches of a pattern, then keeps, drops or merges the matched delimiters
/// according to `behavior` (optionally with matches and gaps swapped by `invert`).
struct SplitPreTokenizer: PreTokenizer {
    enum Behavior: String {
        case removed = "Removed", isolated = "Isolated", mergedWithPrevious = "MergedWithPrevious"
        case mergedWithNext = "MergedWithNext", contiguous = "Contiguous"
    }

    let pattern: SplitPattern
    let behavior: Behavior
    let invert: Bool

    init(_ json: JSONObject) throws {
        let patternJSON = try json.object("pattern")
        if let regex = try patternJSON.optionalString("Regex") {
            pattern = try SplitPatterns.regex(regex)
        } else if let literal = try patternJSON.optionalString("String") {
            pattern = LiteralPattern(needle: Array(literal.utf8))
        } else {
            throw TokenizerError.invalidJSON("\(patternJSON.path) has neither Regex nor String")
        }
        let behaviorName = try json.string("behavior")
        guard let behavior = Behavior(rawValue: behaviorName) else {
            throw TokenizerError.unsupported(stage: "Split behavior", type: behaviorName)
        }
        self.behavior = behavior
        invert = try json.bool("invert", default: false)
    }

    var endsWithByteLevel: Bool { false }

    func split(_ piece: ArraySlice<UInt8>, into words: inout [ArraySlice<UInt8>]) {
        // (range, isMatch) pieces tiling the input, relative to piece.startIndex.
        var parts = [(Range<Int>, Bool)]()
        var previous = 0
        piece.withUnsafeBufferPointer { buf in
            pattern.forEachMatch(in: buf) { range in
                if previous != range.lowerBound { parts.append((previous..<range.lowerBound, invert)) }
                parts.append((range, !invert))
                previous = range.upperBound
            }
            if previous != buf.count { parts.append((previous..<buf.count, invert)) }
        }
        for range in apply(behavior, to: parts) where !range.isEmpty {
            words.append(piece[(piece.startIndex + range.lowerBound)..<(piece.startIndex + range.upperBound)])
        }
    }

    private func apply(_ behavior: Behavior, to parts: [(Range<Int>, Bool)]) -> [Range<Int>] {
        switch behavior {
        case .isolated:
            return parts.map(\.0)
        case .removed:
            return parts.filter { !$0.1 }.map(\.0)
        case .mergedWithPrevious:
            var out = [Range<Int>]()
            var previousMatch = false
            for (range, isMatch) in parts {
                if isMatch && !previousMatch, let last = out.last {
                    out[out.count - 1] = last.lowerBound..<range.upperBound
                } else {
                    out.append(range)
                }
                previousMatch = isMatch
            }
            return out
        case .mergedWithNext:
            var out = [Range<Int>]()
            var previousMatch = false
            for (range, isMatch) in parts.reversed() {
                if isMatch && !previousMatch, let last = out.last {
                    out[out.count - 1] = range.lowerBound..<last.upperBound
                } else {
                    out.append(range)
                }
                previousMatch = isMatch
            }
            return out.reversed()
        case .contiguous:
            var out = [Range<Int>]()
            var previousMatch = false
            for (range, isMatch) in parts {
                if isMatch == previousMatch, let last = out.last {
                    out[out.count - 1] = last.lowerBound..<range.upperBound
                } else {
                    out.append(range)
                }
                previousMatch = isMatch
            }
            return out
        }
    }
}
