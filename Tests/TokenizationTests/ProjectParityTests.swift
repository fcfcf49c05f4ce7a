import Foundation
import Testing
@testable import Tokenization

/// Parity with the library on every validation document of the project's own 8192-token tokenizer
/// (Resources/project, written by Scripts/make_project_cases.py from the git-ignored corpus).
@Suite struct ProjectParityTests {
    struct Document {
        let split: UInt8
        let text: String
        let ids: [Int32]
    }

    static func documents() throws -> [Document] {
        let data = try Data(contentsOf: Fixtures.url("project/val_cases.bin"))
        return try data.withUnsafeBytes { raw -> [Document] in
            var offset = 0
            func read<T: FixedWidthInteger>(_: T.Type) throws -> T {
                guard offset + MemoryLayout<T>.size <= raw.count else { throw TokenizerError.invalidJSON("truncated val_cases.bin") }
                defer { offset += MemoryLayout<T>.size }
                return T(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: T.self))
            }
            guard raw.count >= 12, String(decoding: raw[0..<8], as: UTF8.self) == "TOKCASE1" else {
                throw TokenizerError.invalidJSON("val_cases.bin: bad magic")
            }
            offset = 8
            let count = Int(try read(UInt32.self))
            var documents = [Document]()
            for _ in 0..<count {
                let split = try read(UInt8.self)
                let textLength = Int(try read(UInt32.self))
                let idCount = Int(try read(UInt32.self))
                guard offset + textLength <= raw.count else { throw TokenizerError.invalidJSON("truncated val_cases.bin") }
                let text = String(decoding: raw[offset..<(offset + textLength)], as: UTF8.self)
                offset += textLength
                let ids = try (0..<idCount).map { _ in Int32(try read(UInt16.self)) }
                documents.append(Document(split: split, text: text, ids: ids))
            }
            guard offset == raw.count else { throw TokenizerError.invalidJSON("trailing bytes in val_cases.bin") }
            return documents
        }
    }

    @Test func everyValidationDocumentMatchesLibrary() throws {
        let manifest = try #require(try Fixtures.json("project/manifest.json") as? [String: Any])
        let tokenizer = try Tokenizer(contentsOf: Fixtures.url("project/tokenizer.json"))
        #expect(tokenizer.vocabSize == manifest["vocab_size"] as? Int)
        #expect(tokenizer.id(forToken: "<|endoftext|>") == 0)
        let documents = try Self.documents()
        #expect(documents.count == manifest["documents"] as? Int)
        #expect(Set(documents.map(\.split)) == [0, 1, 2])
        var mismatches = 0
        var tokens = 0
        for (index, document) in documents.enumerated() {
            let ids = tokenizer.encode(document.text)
            tokens += ids.count
            let decoded = tokenizer.decode(document.ids)
            if ids != document.ids || decoded != document.text {
                mismatches += 1
                if mismatches <= 3 {
                    let at = (0..<min(ids.count, document.ids.count)).first { ids[$0] != document.ids[$0] } ?? min(ids.count, document.ids.count)
                    Issue.record("""
                        document \(index) (split \(document.split)): \(ids.count) ids, expected \(document.ids.count); \
                        first difference at \(at): \(ids[at..<min(at + 8, ids.count)]) vs \
                        \(document.ids[at..<min(at + 8, document.ids.count)]); decode round trip \(decoded == document.text)
                        """)
                }
            }
        }
        #expect(mismatches == 0, "\(mismatches) of \(documents.count) documents differ")
        #expect(tokens == documents.reduce(0) { $0 + $1.ids.count })
    }

    @Test func streamingDecodeOfCodeDocumentsEqualsText() throws {
        let tokenizer = try Tokenizer(contentsOf: Fixtures.url("project/tokenizer.json"))
        for document in try Self.documents() where document.split == 2 {
            var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
            var text = ""
            for id in document.ids { text += detokenizer.append(id) }
            text += detokenizer.finish()
            #expect(text == document.text)
        }
    }
}
