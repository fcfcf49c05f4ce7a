/// Splits a piece of (normalized) input text, as UTF-8 bytes, into words for the model.
/// Pieces are slices of one buffer so that splitting copies nothing.
protocol PreTokenizer: Sendable {
    func split(_ piece: ArraySlice<UInt8>, into words: inout [ArraySlice<UInt8>])
    /// Whether the stage ends with the byte-level mapping, which the BPE model relies on.
    var endsWithByteLevel: Bool { get }
}

enum PreTokenizers {
    static func make(_ json: JSONObject) throws -> PreTokenizer {
        let type = try json.type()
        switch type {
        case "ByteLevel": return try ByteLevelPreTokenizer(json)
        case "Split": return try SplitPreTokenizer(json)
        case "Sequence":
            let stages = try json.array("pretokenizers").enumerated().map { index, element in
                try make(JSONObject(element, path: "\(json.path).pretokenizers[\(index)]"))
            }
            return try SequencePreTokenizer(stages)
        default:
            throw TokenizerError.unsupported(stage: "pre_tokenizer", type: type)
        }
    }
}

/// Stages applied one after the other to every word the previous stage produced.
struct SequencePreTokenizer: PreTokenizer {
    let stages: [PreTokenizer]

    init(_ stages: [PreTokenizer]) throws {
        // Bytes are mapped to vocabulary characters once, as the very last step; anything after the
        // mapping would see the mapped characters, which this implementation does not model.
        for stage in stages.dropLast() where stage.endsWithByteLevel {
            throw TokenizerError.unsupported(stage: "pre_tokenizer", type: "Sequence with a stage after ByteLevel")
        }
        self.stages = stages
    }

    var endsWithByteLevel: Bool { stages.last?.endsWithByteLevel ?? false }

    func split(_ piece: ArraySlice<UInt8>, into words: inout [ArraySlice<UInt8>]) {
        var current = [piece]
        var next = [ArraySlice<UInt8>]()
        for stage in stages {
            next.removeAll(keepingCapacity: true)
            for word in current { stage.split(word, into: &next) }
            swap(&current, &next)
        }
        words.append(contentsOf: current)
    }
}
