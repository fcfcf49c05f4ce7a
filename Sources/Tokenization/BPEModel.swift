import Foundation

/// The `model` stage. Only byte-level BPE is in scope, so the factory returns the concrete type
/// (no protocol dispatch on the hot path) and throws for WordPiece, Unigram, WordLevel.
enum Models {
    static func make(_ json: JSONObject, cacheCapacity: Int) throws -> BPEModel {
        let type = try json.type()
        switch type {
        case "BPE": return try BPEModel(json, cacheCapacity: cacheCapacity)
        default: throw TokenizerError.unsupported(stage: "model", type: type)
        }
    }
}

/// Byte-level `BPE`: a word's bytes start as one symbol each and the adjacent pair with the lowest
/// merge rank is merged until none is left (leftmost pair on ties), exactly as the library does.
final class BPEModel: Sendable {
    /// token string -> id, and id -> token string, for the model's own vocabulary.
    let vocab: [String: Int32]
    let idToToken: [Int32: String]
    /// Pair of symbol ids -> (rank, merged id).
    private let merges: MergeTable
    /// byteIDs[b]: id of the one-byte token for byte b, or -1 when the vocabulary lacks it.
    private let byteIDs: [Int32]
    private let unknownID: Int32?
    private let fuseUnknown: Bool
    private let ignoreMerges: Bool
    private let cache: WordCache

    /// `cacheCapacity`: words remembered (the library uses 10,000); 0 disables the cache.
    init(_ json: JSONObject, cacheCapacity: Int = 10_000) throws {
        let type = try json.type()
        guard type == "BPE" else { throw TokenizerError.unsupported(stage: "model", type: type) }
        if try json.bool("byte_fallback", default: false) {
            throw TokenizerError.unsupported(stage: "model", type: "BPE with byte_fallback")
        }
        if json.has("dropout"), let dropout = json.dict["dropout"] as? Double, dropout > 0 {
            throw TokenizerError.unsupported(stage: "model", type: "BPE with dropout")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let affix = try json.optionalString(key), !affix.isEmpty {
                throw TokenizerError.unsupported(stage: "model", type: "BPE with \(key)")
            }
        }
        guard let vocabJSON = json.dict["vocab"] as? [String: Any] else {
            throw TokenizerError.invalidJSON("\(json.path).vocab is not an object")
        }
        var vocab = [String: Int32](minimumCapacity: vocabJSON.count)
        var idToToken = [Int32: String](minimumCapacity: vocabJSON.count)
        for (token, value) in vocabJSON {
            guard let number = value as? NSNumber else {
                throw TokenizerError.invalidJSON("\(json.path).vocab[\(token)] is not a number")
            }
            let id = Int32(number.intValue)
            vocab[token] = id
            idToToken[id] = token
        }
        self.vocab = vocab
        self.idToToken = idToToken

        let mergesJSON = try json.array("merges")
        var merges = MergeTable(capacity: mergesJSON.count)
        for (rank, entry) in mergesJSON.enumerated() {
            let (left, right) = try Self.mergePair(entry, path: "\(json.path).merges[\(rank)]")
            guard let leftID = vocab[left] else { throw TokenizerError.mergeOutOfVocabulary(left) }
            guard let rightID = vocab[right] else { throw TokenizerError.mergeOutOfVocabulary(right) }
            guard let mergedID = vocab[left + right] else { throw TokenizerError.mergeOutOfVocabulary(left + right) }
            // A repeated pair keeps its last rank, as in the library's map.
            merges.set(leftID, rightID, .init(rank: Int32(rank), id: mergedID))
        }
        self.merges = merges
        byteIDs = ByteLevelAlphabet.byteToScalar.map { vocab[String($0)] ?? -1 }
        if let unknown = try json.optionalString("unk_token") {
            guard let id = vocab[unknown] else { throw TokenizerError.invalidJSON("unk_token '\(unknown)' is not in the vocabulary") }
            unknownID = id
        } else {
            unknownID = nil
        }
        fuseUnknown = try json.bool("fuse_unk", default: false)
        ignoreMerges = try json.bool("ignore_merges", default: false)
        cache = WordCache(capacity: cacheCapacity)
    }

    /// Merges are `"a b"` (split at the first space: tokens never contain a raw space) or `["a", "b"]`.
    private static func mergePair(_ entry: Any, path: String) throws -> (String, String) {
        if let pair = entry as? [Any], pair.count == 2, let left = pair[0] as? String, let right = pair[1] as? String {
            return (left, right)
        }
        if let text = entry as? String, let space = text.firstIndex(of: " ") {
            return (String(text[..<space]), String(text[text.index(after: space)...]))
        }
        throw TokenizerError.invalidJSON("\(path) is not a merge pair")
    }

    /// Appends the ids of one word, given as raw bytes (spelled with the byte-level alphabet).
    /// Working buffers reused across the words of one `encode` call, to avoid allocating per word.
    struct Scratch {
        fileprivate var symbols: [Symbol] = []
        fileprivate var heap = MergeHeap()
        init() {}
    }

    func tokenize(_ word: ArraySlice<UInt8>, scratch: inout Scratch, into ids: inout [Int32]) {
        // Words of 256+ bytes bypass the cache, as in the library (long words are rare and unique).
        let hash = word.count < 256 ? WordCache.hash(word) : 0
        if hash != 0 && cache.append(word, hash: hash, to: &ids) { return }
        let first = ids.count
        if ignoreMerges, let id = vocab[ByteLevelAlphabet.encode(word)] {
            ids.append(id)
        } else {
            merge(word, symbols: &scratch.symbols, heap: &scratch.heap, into: &ids)
        }
        if hash != 0 { cache.set(word, hash: hash, Array(ids[first...])) }
    }

    /// One symbol of a word being merged; symbols form a linked list over a fixed array.
    fileprivate struct Symbol {
        var id: Int32
        var prev: Int32
        var next: Int32
        var alive: Bool
    }

    private func merge(_ word: ArraySlice<UInt8>, symbols: inout [Symbol], heap: inout MergeHeap, into out: inout [Int32]) {
        symbols.removeAll(keepingCapacity: true)
        for byte in word {
            let id = byteIDs[Int(byte)]
            if id >= 0 {
                symbols.append(Symbol(id: id, prev: Int32(symbols.count) - 1, next: Int32(symbols.count) + 1, alive: true))
            } else if let unknown = unknownID {
                // Consecutive unknowns collapse into one when fuse_unk is set.
                if fuseUnknown, let last = symbols.last, last.id == unknown { continue }
                symbols.append(Symbol(id: unknown, prev: Int32(symbols.count) - 1, next: Int32(symbols.count) + 1, alive: true))
            }
            // Without an unknown token the library silently drops the byte.
        }
        guard !symbols.isEmpty else { return }
        symbols[symbols.count - 1].next = -1
        if symbols.count > 1 {
            heap.removeAll()
            for pos in 0..<(symbols.count - 1) {
                if let m = merges.get(symbols[pos].id, symbols[pos + 1].id) {
                    heap.push(.init(rank: m.rank, pos: Int32(pos), id: m.id))
                }
            }
            while let top = heap.pop() {
                let pos = Int(top.pos)
                guard symbols[pos].alive, symbols[pos].next >= 0 else { continue }
                let nextPos = Int(symbols[pos].next)
                // Skip entries made stale by an earlier merge.
                guard let current = merges.get(symbols[pos].id, symbols[nextPos].id), current.id == top.id else { continue }
                symbols[pos].id = top.id
                symbols[nextPos].alive = false
                let after = symbols[nextPos].next
                symbols[pos].next = after
                if after >= 0 { symbols[Int(after)].prev = Int32(pos) }
                let prev = symbols[pos].prev
                if prev >= 0, let m = merges.get(symbols[Int(prev)].id, top.id) {
                    heap.push(.init(rank: m.rank, pos: prev, id: m.id))
                }
                if after >= 0, let m = merges.get(top.id, symbols[Int(after)].id) {
                    heap.push(.init(rank: m.rank, pos: Int32(pos), id: m.id))
                }
            }
        }
        for symbol in symbols where symbol.alive { out.append(symbol.id) }
    }
}
