import Foundation
@testable import Tokenization

/// Test fixtures, read from the source tree next to this file.
enum Fixtures {
    static let resources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources")

    static func url(_ path: String) -> URL { resources.appendingPathComponent(path) }

    static func json(_ path: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url(path)))
    }

    /// The GPT-2 tokenizer.json as a dictionary, to patch into variants.
    nonisolated(unsafe) static let gpt2JSON: [String: Any] = try! json("gpt2/tokenizer.json") as! [String: Any]

    static let gpt2 = try! Tokenizer(contentsOf: url("gpt2/tokenizer.json"))

    /// The GPT-2 tokenizer with some top-level keys replaced, as make_cases.py does: `"_base": "tiny"`
    /// starts from the small tokenizer in cases.json instead, `"_model"` replaces keys of the model.
    static func gpt2(patchedWith patch: [String: Any]) throws -> Tokenizer {
        var doc = patch["_base"] as? String == "tiny" ? cases.tiny : gpt2JSON
        for (key, value) in patch where !key.hasPrefix("_") { doc[key] = value }
        if let modelPatch = patch["_model"] as? [String: Any] {
            var model = doc["model"] as! [String: Any]
            for (key, value) in modelPatch { model[key] = value }
            doc["model"] = model
        }
        return try Tokenizer(json: doc)
    }

    struct Case {
        let variant: String
        let text: String
        let ids: [Int32]
        let idsPlain: [Int32]
        let decoded: String
        let decodedSkip: String
    }

    struct DecodeCase {
        let ids: [Int32]
        let decoded: String
        let decodedSkip: String
    }

    nonisolated(unsafe) static let cases: (variants: [String: [String: Any]], cases: [Case], decodes: [DecodeCase], vocabSize: Int,
                                           tiny: [String: Any]) = {
        let root = try! json("gpt2/cases.json") as! [String: Any]
        let cases = (root["cases"] as! [[String: Any]]).map {
            Case(variant: $0["variant"] as! String, text: $0["text"] as! String, ids: int32s($0["ids"]),
                 idsPlain: int32s($0["ids_plain"]), decoded: $0["decoded"] as! String,
                 decodedSkip: $0["decoded_skip"] as! String)
        }
        let decodes = (root["decodes"] as! [[String: Any]]).map {
            DecodeCase(ids: int32s($0["ids"]), decoded: $0["decoded"] as! String, decodedSkip: $0["decoded_skip"] as! String)
        }
        return (root["variants"] as! [String: [String: Any]], cases, decodes, root["vocab_size"] as! Int,
                root["tiny_tokenizer"] as! [String: Any])
    }()

    static func int32s(_ any: Any?) -> [Int32] { (any as! [Int]).map { Int32($0) } }

    static let variantNames = ["base", "prefix_space", "no_regex", "no_regex_prefix", "split_gpt2", "split_cl100k", "added_flags",
                               "added_flags_prefix", "split_removed", "split_prev", "split_next", "split_contiguous",
                               "split_invert", "nfkc", "ignore_merges", "tiny_unk", "tiny_unk_fuse", "tiny_no_unk"]
}

/// Shows control characters and non-ASCII in failure messages.
func visible(_ text: String) -> String {
    text.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 ? String($0) : "\\u{\(String($0.value, radix: 16))}" }.joined()
}

extension Fixtures {
    /// A tiny byte-level BPE (the 256 byte tokens, one merge "Ġ t", `<|endoftext|>` = 257) for tests
    /// about loading, where parsing the 50k-entry GPT-2 file each time would only cost time.
    static func tinyJSON() -> [String: Any] {
        var vocab = [String: Int]()
        for (id, scalar) in ByteLevelAlphabet.byteToScalar.enumerated() { vocab[String(scalar)] = id }
        vocab["Ġt"] = 256
        return [
            "version": "1.0",
            "added_tokens": [["id": 257, "content": "<|endoftext|>", "single_word": false, "lstrip": false,
                              "rstrip": false, "normalized": false, "special": true]],
            "normalizer": NSNull(),
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
            "post_processor": NSNull(),
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "fuse_unk": false,
                      "byte_fallback": false, "vocab": vocab, "merges": [["Ġ", "t"]]],
        ]
    }

    static func tiny(patchedWith patch: [String: Any] = [:]) throws -> Tokenizer {
        var doc = tinyJSON()
        for (key, value) in patch { doc[key] = value }
        return try Tokenizer(json: doc)
    }
}
