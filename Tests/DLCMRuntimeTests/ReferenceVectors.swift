import Foundation

/// vectors.json written by weights/recipe/make_vectors.py.
struct ReferenceVectors: Decodable {
    struct Case: Decodable {
        let prompt: [Int32]
        let p: [Float]
        let b: [Int]
        let segments: Int
        let logitPositions: [Int]
        let logits: [[Float]]
        let greedy: [Int32]
        let greedyP: [Float]
        let greedyB: [Int]
        let segmentsAfterGreedy: Int

        enum CodingKeys: String, CodingKey {
            case prompt, p, b, segments, logits, greedy
            case logitPositions = "logit_positions", greedyP = "greedy_p", greedyB = "greedy_b"
            case segmentsAfterGreedy = "segments_after_greedy"
        }
    }
    let cases: [Case]

    static func load(_ url: URL) throws -> ReferenceVectors {
        try JSONDecoder().decode(ReferenceVectors.self, from: Data(contentsOf: url))
    }
}

enum Fixtures {
    static func directory(_ name: String) -> URL {
        // Read from the source tree: the fixtures are committed next to this file.
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources").appendingPathComponent(name)
    }
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    var m: Float = 0
    for i in a.indices { m = max(m, abs(a[i] - b[i])) }
    return m
}

