extension Tokenizer {
    /// Token ids of `text`.
    /// - Parameters:
    ///   - parseSpecial: when false, special tokens written in the text are encoded as plain text
    ///     (use for untrusted input so a user cannot inject `<|endoftext|>`).
    ///   - addSpecialTokens: apply the post-processor's template (e.g. a BOS token), as the library's
    ///     `add_special_tokens`; byte-level GPT-2 style files add nothing.
    public func encode(_ text: String, parseSpecial: Bool = true, addSpecialTokens: Bool = true) -> [Int32] {
        let bytes = Array(text.utf8)
        var ids = [Int32]()
        ids.reserveCapacity(bytes.count / 3)
        var words = [ArraySlice<UInt8>]()
        var scratch = BPEModel.Scratch()
        for piece in splitAdded(bytes, rawAddedTokens, parseSpecial: parseSpecial) {
            if let token = piece.token {
                ids.append(token.id)
                continue
            }
            if let normalizer {
                let normalized = Array(normalizer.normalize(String(decoding: bytes[piece.range], as: UTF8.self)).utf8)
                for inner in splitAdded(normalized, normalizedAddedTokens, parseSpecial: parseSpecial) {
                    if let token = inner.token {
                        ids.append(token.id)
                    } else {
                        tokenizeText(normalized[inner.range], words: &words, scratch: &scratch, ids: &ids)
                    }
                }
            } else {
                // Without a normalizer both kinds of added tokens match the same text.
                for inner in splitAdded(bytes, normalizedAddedTokens, parseSpecial: parseSpecial, in: piece.range) {
                    if let token = inner.token {
                        ids.append(token.id)
                    } else {
                        tokenizeText(bytes[inner.range], words: &words, scratch: &scratch, ids: &ids)
                    }
                }
            }
        }
        if addSpecialTokens, let postProcessor { ids = postProcessor.process(ids) }
        return ids
    }

    private func splitAdded(_ bytes: [UInt8], _ matcher: AddedTokenMatcher, parseSpecial: Bool,
                            in range: Range<Int>? = nil) -> [AddedTokenMatcher.Piece] {
        let range = range ?? 0..<bytes.count
        if matcher.isEmpty { return range.isEmpty ? [] : [.init(range: range, token: nil)] }
        return bytes.withUnsafeBufferPointer { matcher.split($0, range, parseSpecial: parseSpecial) }
    }

    private func tokenizeText(_ text: ArraySlice<UInt8>, words: inout [ArraySlice<UInt8>],
                              scratch: inout BPEModel.Scratch, ids: inout [Int32]) {
        guard !text.isEmpty else { return }
        words.removeAll(keepingCapacity: true)
        preTokenizer.split(text, into: &words)
        for word in words { model.tokenize(word, scratch: &scratch, into: &ids) }
    }
}
