/// `ByteLevel`: optionally prefixes a space, optionally splits with the GPT-2 pattern, and maps
/// bytes to vocabulary characters (the mapping itself happens in the BPE model, byte by byte).
struct ByteLevelPreTokenizer: PreTokenizer {
    let addPrefixSpace: Bool
    let useRegex: Bool
    private let pattern = GPT2Pattern()

    init(addPrefixSpace: Bool, useRegex: Bool) {
        self.addPrefixSpace = addPrefixSpace
        self.useRegex = useRegex
    }

    init(_ json: JSONObject) throws {
        self.init(addPrefixSpace: try json.bool("add_prefix_space", default: true),
                  useRegex: try json.bool("use_regex", default: true))
    }

    var endsWithByteLevel: Bool { true }

    func split(_ piece: ArraySlice<UInt8>, into words: inout [ArraySlice<UInt8>]) {
        var piece = piece
        if addPrefixSpace && piece.first != 0x20 {
            var prefixed = [UInt8](repeating: 0x20, count: piece.count + 1)
            prefixed.replaceSubrange(1..., with: piece)
            piece = prefixed[...]
        }
        guard useRegex else {
            words.append(piece)
            return
        }
        let base = piece.startIndex
        piece.withUnsafeBufferPointer { buf in
            pattern.forEachMatch(in: buf) { range in
                words.append(piece[(base + range.lowerBound)..<(base + range.upperBound)])
            }
        }
    }
}
