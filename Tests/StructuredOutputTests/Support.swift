import Foundation
import StrictJSON
import TestSupport
import Testing
import Tokenization
@testable import StructuredOutput

/// Shared fixtures: a byte vocabulary (one token per byte, end-of-text 256) for byte-level
/// checks, the GPT-2 and project tokenizers for token-level ones.
enum Support {
    static let resources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources")
    static let tokenizerResources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("TokenizationTests/Resources")

    static let byteVocabulary = TokenVocabulary(tokenBytes: (0..<256).map { [UInt8($0)] } + [[]], endOfText: 256, excluded: [])

    static func schema(_ text: String) -> JSON { try! JSONParser.parse(Array(text.utf8)) }

    static func grammar(_ schemaText: String) throws -> Grammar { try Grammar.jsonSchema(schema(schemaText)) }

    /// Whether the grammar accepts exactly these bytes as a complete document.
    static func accepts(_ g: Grammar, _ bytes: [UInt8]) -> Bool {
        let c = TokenConstraint(grammar: g, vocabulary: byteVocabulary, cacheCapacity: 0)
        var s = c.start()
        return c.advance(&s, bytes: bytes) && s.canEnd
    }

    static func accepts(_ g: Grammar, _ text: String) -> Bool { accepts(g, Array(text.utf8)) }

    struct LoadedVocabulary: Sendable {
        let name: String
        let vocabulary: TokenVocabulary
        let tokenizer: Tokenizer
    }

    static func load(_ name: String) -> LoadedVocabulary {
        let tokenizer = try! Tokenizer(contentsOf: tokenizerResources.appendingPathComponent("\(name)/tokenizer.json"))
        let eot = tokenizer.id(forToken: "<|endoftext|>")!
        let excluded = Set(tokenizer.addedTokens.filter(\.special).map(\.id))
        let bytes = (0..<tokenizer.vocabSize).map { tokenizer.bytes(of: Int32($0)) }
        return LoadedVocabulary(name: name, vocabulary: TokenVocabulary(tokenBytes: bytes, endOfText: eot, excluded: excluded), tokenizer: tokenizer)
    }

    static let gpt2 = load("gpt2")
    static let project = load("project")
}
