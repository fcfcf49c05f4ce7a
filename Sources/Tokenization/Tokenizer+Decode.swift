extension Tokenizer {
    /// Text of `ids`. Ids outside the vocabulary are skipped, as the library does; bytes that are
    /// not valid UTF-8 become U+FFFD.
    public func decode(_ ids: [Int32], skipSpecial: Bool = false) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(ids.count * 4)
        for id in ids { appendBytes(of: id, skipSpecial: skipSpecial, to: &bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Raw bytes of one token (empty for unknown ids and, when `skipSpecial`, special tokens).
    public func appendBytes(of id: Int32, skipSpecial: Bool, to bytes: inout [UInt8]) {
        guard id >= 0, Int(id) < tokenBytes.count else { return }
        if skipSpecial && specialIDs.contains(id) { return }
        bytes.append(contentsOf: tokenBytes[Int(id)])
    }
}
