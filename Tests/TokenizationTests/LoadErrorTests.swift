import Foundation
import Testing
@testable import Tokenization

/// Unsupported or malformed files fail at load time with a message naming the culprit.
@Suite struct LoadErrorTests {
    func loadError(_ patch: [String: Any]) -> String? {
        do {
            _ = try Fixtures.tiny(patchedWith: patch)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func unsupportedStageTypesThrowNamingTheType() {
        #expect(loadError(["normalizer": ["type": "Precompiled"]])?.contains("Precompiled") == true)
        #expect(loadError(["pre_tokenizer": ["type": "Metaspace"]])?.contains("Metaspace") == true)
        #expect(loadError(["pre_tokenizer": ["type": "Whitespace"]])?.contains("Whitespace") == true)
        #expect(loadError(["decoder": ["type": "WordPiece"]])?.contains("WordPiece") == true)
        #expect(loadError(["post_processor": ["type": "BertProcessing"]])?.contains("BertProcessing") == true)
        #expect(loadError(["model": ["type": "Unigram", "vocab": []]])?.contains("Unigram") == true)
        let regex = ["type": "Split", "pattern": ["Regex": "\\w+"], "behavior": "Isolated", "invert": false] as [String: Any]
        #expect(loadError(["pre_tokenizer": ["type": "Sequence", "pretokenizers": [regex]]])?.contains("\\w+") == true)
        // The BPE model needs bytes mapped to its alphabet.
        #expect(loadError(["pre_tokenizer": NSNull()]) != nil)
        #expect(loadError(["decoder": NSNull()]) != nil)
    }

    @Test func malformedModelThrows() {
        #expect(loadError([:]) == nil)
        var model = Fixtures.tinyJSON()["model"] as! [String: Any]
        model["merges"] = [["Ġ", "zzzz-not-a-token"]]
        #expect(loadError(["model": model])?.contains("zzzz-not-a-token") == true)
        model["merges"] = [42]
        #expect(loadError(["model": model]) != nil)
        var tokens = Fixtures.tinyJSON()["added_tokens"] as! [[String: Any]]
        tokens[0]["id"] = 1 << 30
        #expect(loadError(["added_tokens": tokens])?.contains("dense") == true)
        tokens[0]["id"] = -1
        #expect(loadError(["added_tokens": tokens])?.contains("dense") == true)
        model["byte_fallback"] = true
        #expect(loadError(["model": model])?.contains("byte_fallback") == true)
        #expect(throws: TokenizerError.self) { try Tokenizer(data: Data("not json".utf8)) }
    }

    @Test func templatePostProcessorAddsSpecialTokens() throws {
        let template: [String: Any] = [
            "type": "TemplateProcessing",
            "single": [["SpecialToken": ["id": "<|endoftext|>", "type_id": 0]], ["Sequence": ["id": "A", "type_id": 0]]],
            "pair": [] as [Any],
            "special_tokens": ["<|endoftext|>": ["id": "<|endoftext|>", "ids": [257], "tokens": ["<|endoftext|>"]]],
        ]
        let tokenizer = try Fixtures.tiny(patchedWith: ["post_processor": template])
        let ids = tokenizer.encode(" tt")
        #expect(ids == [257, 256, 116])  // <|endoftext|>, "Ġt", "t" (byte ids are byte values here)
        #expect(tokenizer.encode(" tt", addSpecialTokens: false) == [256, 116])
        #expect(tokenizer.decode(ids, skipSpecial: true) == " tt")
        #expect(tokenizer.vocabSize == 258)
    }

    @Test func stringFormMergesGiveTheSameIDs() throws {
        var model = Fixtures.gpt2JSON["model"] as! [String: Any]
        model["merges"] = (model["merges"] as! [[String]]).map { $0.joined(separator: " ") }
        let tokenizer = try Fixtures.gpt2(patchedWith: ["model": model])
        for c in Fixtures.cases.cases.prefix(100) where c.variant == "base" {
            #expect(tokenizer.encode(c.text) == c.ids)
        }
    }
}
