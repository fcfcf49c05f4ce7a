/// Token ids with their bytes; built once per tokenizer, shared.
///
/// Holds the vocabulary as a byte trie in preorder (flat arrays: a node's byte, depth, the end of
/// its subtree, the tokens ending at it), which mask computation walks depth first.
public final class TokenVocabulary: Sendable {
    public let endOfText: Int32
    let tokenCount: Int
    /// Bytes of every token: tokenData[tokenStart[id] ..< tokenStart[id + 1]].
    let tokenStart: [Int32]
    let tokenData: [UInt8]
    /// Whether a token may appear in a mask at all: not excluded, not end-of-text, not empty
    /// (a token of no bytes would be allowed everywhere and let a model loop without progress).
    let usable: [Bool]

    let nodeCount: Int
    let nodeByte: FrozenBuffer<UInt8>
    let nodeDepth: FrozenBuffer<UInt16>
    /// One past the last node of the subtree.
    let nodeEnd: FrozenBuffer<Int32>
    /// Tokens ending at node i: nodeTokens[nodeTokenStart[i] ..< nodeTokenStart[i + 1]].
    let nodeTokenStart: FrozenBuffer<Int32>
    let nodeTokens: FrozenBuffer<Int32>
    /// The longest token, in bytes.
    let maxDepth: Int

    /// tokenBytes[id] = the bytes the token decodes to. `excluded`: ids never allowed by a
    /// constraint (special/control tokens whose text is not output); `endOfText`: the id allowed
    /// exactly where the document is complete.
    public init(tokenBytes: [[UInt8]], endOfText: Int32, excluded: Set<Int32>) {
        self.endOfText = endOfText
        tokenCount = max(tokenBytes.count, Int(endOfText) + 1)
        var start: [Int32] = [0]
        var data: [UInt8] = []
        for t in tokenBytes { data += t; start.append(Int32(data.count)) }
        while start.count < tokenCount + 1 { start.append(Int32(data.count)) }
        tokenStart = start
        tokenData = data
        var usable = [Bool](repeating: false, count: tokenCount)
        for (id, t) in tokenBytes.enumerated() where !t.isEmpty && !excluded.contains(Int32(id)) && Int32(id) != endOfText {
            usable[id] = true
        }
        self.usable = usable

        let ids = (0..<tokenBytes.count).filter { usable[$0] }.sorted { a, b in
            tokenBytes[a].lexicographicallyPrecedes(tokenBytes[b]) || (tokenBytes[a] == tokenBytes[b] && a < b)
        }
        var byte: [UInt8] = [], depth: [UInt16] = [], end: [Int32] = [], tokenBegin: [Int32] = [], tokens: [Int32] = []
        var path: [Int] = []
        var previous: [UInt8] = []
        var longest = 0
        for id in ids {
            let s = tokenBytes[id]
            longest = max(longest, s.count)
            var common = 0
            while common < min(s.count, previous.count) && s[common] == previous[common] { common += 1 }
            while path.count > common { end[path.removeLast()] = Int32(byte.count) }
            for d in common..<s.count {
                path.append(byte.count)
                byte.append(s[d])
                depth.append(UInt16(d + 1))
                end.append(0)
                tokenBegin.append(Int32(tokens.count))
            }
            // Sorted order: the token's node is the last one created (equal byte strings follow each other).
            tokens.append(Int32(id))
            previous = s
        }
        while let node = path.popLast() { end[node] = Int32(byte.count) }
        tokenBegin.append(Int32(tokens.count))
        nodeCount = byte.count
        nodeByte = FrozenBuffer(byte)
        nodeDepth = FrozenBuffer(depth)
        nodeEnd = FrozenBuffer(end)
        nodeTokenStart = FrozenBuffer(tokenBegin)
        nodeTokens = FrozenBuffer(tokens)
        maxDepth = longest
    }

    public var count: Int { tokenCount }

    func bytes(of id: Int32) -> ArraySlice<UInt8> {
        guard id >= 0, Int(id) < tokenCount else { return [] }
        return tokenData[Int(tokenStart[Int(id)])..<Int(tokenStart[Int(id) + 1])]
    }
}
