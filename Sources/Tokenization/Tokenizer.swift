import Foundation

// The pipeline, one file per stage of tokenizer.json, each a protocol and a factory on `type`:
//   added tokens   AddedVocabulary.swift          split out of the raw text first
//   normalizer     Normalizer.swift               NFC/NFKC/NFD/NFKD/Sequence (usually none)
//   pre_tokenizer  PreTokenizer.swift             ByteLevel, Split (GPT2Pattern, CL100kPattern), Sequence
//   model          BPEModel.swift                 MergeTable, MergeHeap, WordCache
//   post_processor PostProcessor.swift            ByteLevel (no-op on ids), TemplateProcessing
//   decoder        Decoder.swift                  ByteLevel; StreamingDetokenizer for incremental output
// Any other type throws TokenizerError.unsupported at load time.

/// A Hugging Face `tokenizer.json` for byte-level BPE, encoding and decoding with exactly the ids of
/// the `tokenizers` library. Immutable after loading except for an internal word cache; safe to
/// share between threads.
public final class Tokenizer: Sendable {
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer
    let model: BPEModel
    let postProcessor: PostProcessor?
    let decoder: Decoder
    /// Added tokens matched on the raw input, and those (`normalized: true`) matched after normalizing.
    let rawAddedTokens: AddedTokenMatcher
    let normalizedAddedTokens: AddedTokenMatcher
    /// The `added_tokens` of the file (special tokens such as `<|endoftext|>` among them).
    public let addedTokens: [AddedToken]
    private let addedByContent: [String: AddedToken]
    let addedByID: [Int32: AddedToken]
    /// Decoded bytes of every id below `vocabSize` (empty for ids nobody defines), and which ids are special.
    let tokenBytes: [[UInt8]]
    let specialIDs: Set<Int32>

    /// One past the largest id, counting added tokens.
    public let vocabSize: Int

    /// Loads a tokenizer.json. `wordCacheCapacity` bounds the word -> ids cache (10,000 words, as in
    /// the library; a server with a varied workload may want more: ~150 bytes per word).
    public convenience init(contentsOf url: URL, wordCacheCapacity: Int = 10_000) throws {
        try self.init(data: try Data(contentsOf: url), wordCacheCapacity: wordCacheCapacity)
    }

    public convenience init(data: Data, wordCacheCapacity: Int = 10_000) throws {
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw TokenizerError.invalidJSON("not JSON (\(error.localizedDescription))")
        }
        try self.init(json: json, wordCacheCapacity: wordCacheCapacity)
    }

    /// From the `JSONSerialization` object of a tokenizer.json.
    init(json: Any, wordCacheCapacity: Int = 10_000) throws {
        let root = try JSONObject(json, path: "tokenizer")
        normalizer = try root.optionalObject("normalizer").map(Normalizers.make)
        guard let preJSON = try root.optionalObject("pre_tokenizer") else {
            throw TokenizerError.unsupported(stage: "pre_tokenizer", type: "null (byte-level BPE needs ByteLevel)")
        }
        preTokenizer = try PreTokenizers.make(preJSON)
        guard preTokenizer.endsWithByteLevel else {
            throw TokenizerError.unsupported(stage: "pre_tokenizer", type: "\(try preJSON.type()) not ending with ByteLevel")
        }
        model = try Models.make(try root.object("model"), cacheCapacity: wordCacheCapacity)
        postProcessor = try root.optionalObject("post_processor").map(PostProcessors.make)
        guard let decoderJSON = try root.optionalObject("decoder") else {
            throw TokenizerError.unsupported(stage: "decoder", type: "null (byte-level BPE needs ByteLevel)")
        }
        decoder = try Decoders.make(decoderJSON)

        let added = try (root.dict["added_tokens"] as? [Any] ?? []).enumerated().map { index, element in
            try AddedToken(JSONObject(element, path: "tokenizer.added_tokens[\(index)]"))
        }
        addedTokens = added
        rawAddedTokens = AddedTokenMatcher(added.filter { !$0.normalized })
        normalizedAddedTokens = AddedTokenMatcher(added.filter { $0.normalized })
        addedByContent = Dictionary(added.map { ($0.content, $0) }, uniquingKeysWith: { $1 })
        addedByID = Dictionary(added.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
        let ids = Array(model.idToToken.keys) + added.map(\.id)
        // Ids index dense tables (here and in the model runtime): refuse negative or absurdly sparse ones.
        guard let smallest = ids.min(), let largest = ids.max(), smallest >= 0, Int(largest) < 4 * ids.count + 1024 else {
            throw TokenizerError.invalidJSON("token ids must be dense and non-negative (found \(ids.min() ?? 0)...\(ids.max() ?? 0))")
        }
        vocabSize = Int(largest) + 1
        var tokenBytes = [[UInt8]](repeating: [], count: vocabSize)
        for (id, token) in model.idToToken { tokenBytes[Int(id)] = decoder.bytes(of: token) }
        for token in added { tokenBytes[Int(token.id)] = decoder.bytes(of: token.content) }
        self.tokenBytes = tokenBytes
        specialIDs = Set(added.filter(\.special).map(\.id))
    }

    /// The id of a token string (added tokens first, then the model's vocabulary).
    public func id(forToken token: String) -> Int32? {
        addedByContent[token]?.id ?? model.vocab[token]
    }

    /// The token string of an id, in the vocabulary's byte-level spelling ("Ġhello").
    public func token(forId id: Int32) -> String? {
        addedByID[id]?.content ?? model.idToToken[id]
    }

    /// The bytes token `id` decodes to (empty for ids nobody defines), as the byte-level decoder
    /// writes them: what a grammar constraint matches the token against.
    public func bytes(of id: Int32) -> [UInt8] {
        id >= 0 && Int(id) < tokenBytes.count ? tokenBytes[Int(id)] : []
    }

    /// Whether `id` is an added token marked special (such as `<|endoftext|>`).
    public func isSpecial(_ id: Int32) -> Bool {
        addedByID[id]?.special ?? false
    }
}
