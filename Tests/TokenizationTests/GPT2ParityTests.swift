import Foundation
import Synchronization
import Testing
@testable import Tokenization

/// Parity with the `tokenizers` library on OpenAI's GPT-2 vocabulary (cases from make_cases.py).
@Suite struct GPT2ParityTests {
    @Test(arguments: Fixtures.variantNames)
    func encodeAndDecodeMatchLibrary(variant: String) throws {
        let patch = try #require(Fixtures.cases.variants[variant])
        let tokenizer = try Fixtures.gpt2(patchedWith: patch)
        let cases = Fixtures.cases.cases.filter { $0.variant == variant }
        #expect(cases.count > 50)
        var failures = 0
        for c in cases {
            let ids = tokenizer.encode(c.text)
            let plain = tokenizer.encode(c.text, parseSpecial: false)
            let decoded = tokenizer.decode(c.ids)
            let decodedSkip = tokenizer.decode(c.ids, skipSpecial: true)
            if ids != c.ids || plain != c.idsPlain || decoded != c.decoded || decodedSkip != c.decodedSkip {
                failures += 1
                if failures <= 5 {
                    Issue.record("""
                        [\(variant)] "\(visible(c.text))"
                          ids      \(ids)\n  expected \(c.ids)
                          plain    \(plain)\n  expected \(c.idsPlain)
                          decoded "\(visible(decoded))" expected "\(visible(c.decoded))"
                          skip    "\(visible(decodedSkip))" expected "\(visible(c.decodedSkip))"
                        """)
                }
            }
        }
        #expect(failures == 0, "\(failures) of \(cases.count) cases differ")
    }

    @Test func decodeArbitraryIDsMatchesLibrary() {
        let tokenizer = Fixtures.gpt2
        for c in Fixtures.cases.decodes {
            #expect(tokenizer.decode(c.ids) == c.decoded, "\(c.ids)")
            #expect(tokenizer.decode(c.ids, skipSpecial: true) == c.decodedSkip, "\(c.ids)")
        }
    }

    @Test func vocabularyLookups() {
        let tokenizer = Fixtures.gpt2
        #expect(tokenizer.vocabSize == Fixtures.cases.vocabSize)
        #expect(tokenizer.id(forToken: "<|endoftext|>") == 50256)
        #expect(tokenizer.isSpecial(50256))
        #expect(!tokenizer.isSpecial(0))
        #expect(tokenizer.id(forToken: "Ġhello") == 23748)
        #expect(tokenizer.token(forId: 23748) == "Ġhello")
        #expect(tokenizer.token(forId: 50257) == nil)
        #expect(tokenizer.token(forId: -1) == nil)
        #expect(tokenizer.id(forToken: "no such token") == nil)
    }

    @Test func untrustedInputCannotInjectSpecialTokens() {
        let tokenizer = Fixtures.gpt2
        #expect(tokenizer.encode("<|endoftext|>") == [50256])
        let plain = tokenizer.encode("<|endoftext|>", parseSpecial: false)
        #expect(!plain.contains(50256))
        #expect(tokenizer.decode(plain) == "<|endoftext|>")
    }
}

extension GPT2ParityTests {
    /// The shared word cache is the only mutable state; concurrent encoders must agree with the library.
    @Test func concurrentEncodingGivesLibraryIDs() throws {
        let tokenizer = try Fixtures.gpt2(patchedWith: [:])  // a fresh, cold cache
        let cases = Fixtures.cases.cases.filter { $0.variant == "base" }
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for (index, c) in cases.enumerated() where (index + worker) % 2 == 0 {
                if tokenizer.encode(c.text) != c.ids { failures.withLock { $0 += 1 } }
            }
        }
        #expect(failures.withLock { $0 } == 0)
    }
}

extension GPT2ParityTests {
    /// The cache changes speed only: disabled, tiny (full at once) and default give the same ids.
    @Test(arguments: [0, 5])
    func cacheCapacityDoesNotChangeIDs(capacity: Int) throws {
        let tokenizer = try Tokenizer(json: Fixtures.gpt2JSON, wordCacheCapacity: capacity)
        for c in Fixtures.cases.cases where c.variant == "base" {
            #expect(tokenizer.encode(c.text) == c.ids, "\(visible(c.text))")
            #expect(tokenizer.encode(c.text) == c.ids, "\(visible(c.text)) (second pass)")
        }
    }
}
