import Testing
@testable import Tokenization

@Suite struct StreamingDetokenizerTests {
    /// Feeds ids one at a time; checks that no returned text ends mid-character and that the whole
    /// stream equals the library's decode.
    func stream(_ ids: [Int32], skipSpecial: Bool) -> (text: String, pieces: [String]) {
        var detokenizer = StreamingDetokenizer(tokenizer: Fixtures.gpt2, skipSpecial: skipSpecial)
        var pieces = ids.map { detokenizer.append($0) }
        pieces.append(detokenizer.finish())
        return (pieces.joined(), pieces)
    }

    @Test func streamEqualsLibraryDecodeOnEncodeCases() {
        for c in Fixtures.cases.cases where c.variant == "base" {
            #expect(stream(c.ids, skipSpecial: false).text == c.decoded, "\(visible(c.text))")
            #expect(stream(c.ids, skipSpecial: true).text == c.decodedSkip, "\(visible(c.text))")
        }
    }

    @Test func streamEqualsLibraryDecodeOnInvalidBytes() {
        for c in Fixtures.cases.decodes {
            #expect(stream(c.ids, skipSpecial: false).text == c.decoded, "\(c.ids)")
            #expect(stream(c.ids, skipSpecial: true).text == c.decodedSkip, "\(c.ids)")
        }
    }

    @Test func holdsBackPartialCharacters() throws {
        let tokenizer = Fixtures.gpt2
        // "👍" is F0 9F 91 8D: four single-byte tokens.
        let byteIDs = try [0xF0, 0x9F, 0x91, 0x8D].map { byte in
            try #require(tokenizer.id(forToken: String(ByteLevelAlphabet.byteToScalar[byte])))
        }
        var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
        #expect(detokenizer.append(byteIDs[0]) == "")
        #expect(detokenizer.append(byteIDs[1]) == "")
        #expect(detokenizer.append(byteIDs[2]) == "")
        #expect(detokenizer.append(byteIDs[3]) == "👍")
        #expect(detokenizer.append(byteIDs[0]) == "")
        #expect(detokenizer.finish() == "\u{FFFD}")
        #expect(detokenizer.finish() == "")
        // A lead byte followed by a byte that cannot continue it is emitted at once.
        let a = try #require(tokenizer.id(forToken: "a"))
        #expect(detokenizer.append(byteIDs[0]) == "")
        #expect(detokenizer.append(a) == "\u{FFFD}a")
    }

    @Test func completePrefixLength() {
        #expect(StreamingDetokenizer.completePrefixLength([]) == 0)
        #expect(StreamingDetokenizer.completePrefixLength([0x61, 0xE2, 0x82]) == 1)
        #expect(StreamingDetokenizer.completePrefixLength([0x61, 0xE2, 0x82, 0xAC]) == 4)
        #expect(StreamingDetokenizer.completePrefixLength([0xED, 0xA0]) == 2)  // surrogate: never valid
        #expect(StreamingDetokenizer.completePrefixLength([0xF4, 0x90]) == 2)  // past U+10FFFF
        #expect(StreamingDetokenizer.completePrefixLength([0xC0]) == 1)  // overlong lead
        #expect(StreamingDetokenizer.completePrefixLength([0x80, 0x80, 0x80]) == 3)
    }
}
