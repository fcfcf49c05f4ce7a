import Foundation
import Testing
import Tokenization
@testable import DLCMRuntime

/// The shipped checkpoint (weights/dlcm-10m-debian) against vectors its recipe wrote with the
/// PyTorch reference: logits at a few positions, every p and b, the greedy continuation, and the
/// tokenizer on text -> ids -> text.
@Suite struct ShippedModelTests {
    struct Vectors: Decodable {
        struct Case: Decodable {
            let text: String
            let prompt: [Int32]
            let p: [Float]
            let b: [Int]
            let segments: Int
            let logitPositions: [Int]
            let logits: [[Float]]
            let greedy: [Int32]
            let ok: Bool
            enum CodingKeys: String, CodingKey {
                case text, prompt, p, b, segments, logits, greedy, ok
                case logitPositions = "logit_positions"
            }
        }
        struct TokenizerCase: Decodable { let text: String; let ids: [Int32]; let decoded: String }
        let cases: [Case]
        let tokenizerCases: [TokenizerCase]
        enum CodingKeys: String, CodingKey { case cases, tokenizerCases = "tokenizer_cases" }
    }

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("weights/dlcm-10m-debian")

    static func vectors() throws -> Vectors {
        try JSONDecoder().decode(Vectors.self, from: Data(contentsOf: directory.appendingPathComponent("reference-vectors.json")))
    }

    @Test func logitsBoundariesAndGreedyMatchReference() throws {
        let model = try DLCMModel.load(directory: Self.directory, threads: 2)
        let vectors = try Self.vectors()
        #expect(vectors.cases.count >= 3)
        for c in vectors.cases {
            let seq = model.newSequence()
            let out = try model.forward([BatchItem(sequence: seq, tokens: c.prompt, allLogits: true)])[0]
            #expect(maxAbsDiff(out.boundaryProbs, c.p) < 1e-4, "\(c.text.prefix(20))")
            if c.ok { #expect(out.boundaries.map { $0 ? 1 : 0 } == c.b) }
            #expect(seq.conceptCount + 1 == c.segments)
            for (k, pos) in c.logitPositions.enumerated() {
                let diff = maxAbsDiff(out.logits[pos], c.logits[k])
                #expect(diff < 1e-4, "\(c.text.prefix(20)) position \(pos): max |diff| \(diff)")
            }
            guard c.ok else { continue }   // greedy ties or near-threshold p: decisions hinge on rounding
            var logits = out.logits[c.prompt.count - 1]
            var generated = [Int32]()
            for _ in c.greedy {
                let next = argmax(logits)
                generated.append(next)
                logits = try model.forward([BatchItem(sequence: seq, tokens: [next])])[0].logits[0]
            }
            #expect(generated == c.greedy, "\(c.text.prefix(20))")
        }
    }

    @Test func tokenizerMatchesLibrary() throws {
        let tokenizer = try Tokenizer(contentsOf: Self.directory.appendingPathComponent("tokenizer.json"))
        for c in try Self.vectors().tokenizerCases {
            #expect(tokenizer.encode(c.text) == c.ids, "\(c.text.debugDescription)")
            #expect(tokenizer.decode(c.ids) == c.decoded)
        }
    }
}
