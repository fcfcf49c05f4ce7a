import Dispatch
import Synchronization
import StrictJSON
import TestSupport
import Testing
@testable import StructuredOutput

/// Masks on real vocabularies (GPT-2's 50k tokens, the project's 8k): random walks through the
/// masks give parsable documents, masks agree with advancing every token, closing() finishes in
/// exactly remainingBytes bytes, repeated states hit the cache.
@Suite struct TokenLevelTests {
    enum Kind: Sendable { case json, toolCalls }

    struct Case: Sendable, CustomStringConvertible {
        let name: String
        let grammar: Grammar
        let kind: Kind
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "flat", grammar: try! Support.grammar(#"""
            {"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer","minimum":0,"maximum":150},
             "email":{"anyOf":[{"type":"string"},{"type":"null"}]},"score":{"type":"number"},"tags":{"type":"array","items":{"enum":["a","bb","ccc"]},"maxItems":3}},
             "required":["name","age","email"],"additionalProperties":false}
            """#), kind: .json),
        Case(name: "nested $defs", grammar: try! Support.grammar(##"""
            {"$defs":{"Node":{"type":"object","properties":{"label":{"type":"string","minLength":1},"kind":{"const":"node"},
              "children":{"type":"array","items":{"$ref":"#/$defs/Node"},"maxItems":2}},"required":["label","kind","children"],"additionalProperties":false}},
             "type":"object","properties":{"root":{"$ref":"#/$defs/Node"},"count":{"type":"integer","minimum":-5,"maximum":5}},
             "required":["root","count"],"additionalProperties":false}
            """##), kind: .json),
        Case(name: "json_object", grammar: Grammar.anyJSONObject(), kind: .json),
        Case(name: "tool calls (auto)", grammar: try! Grammar.toolCalls([
            ToolSpec(name: "get_weather", parameters: Support.schema(#"{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"#)),
            ToolSpec(name: "noop", parameters: nil),
        ], mode: .auto, parallel: true), kind: .toolCalls),
    ]

    static let vocabularies = [Support.project, Support.gpt2]

    /// Generates until end-of-text: the grammar's masks while the budget lasts, closing() after.
    static func walk(_ c: TokenConstraint, seed: UInt64, budget: Int, states: inout [ConstraintState]) -> (text: [UInt8], ended: Bool) {
        var rng = SeededGenerator(seed: seed)
        var state = c.start()
        var text: [UInt8] = []
        for used in 0..<(budget + 2_000) {
            states.append(state)
            let closing = budget - used <= state.remainingBytes + 1
            let mask = closing ? c.closing(state) : c.allowed(state)
            guard let token = mask.randomElement(using: &rng) else { return (text, false) }
            if token == c.vocabulary.endOfText { return (text, state.canEnd) }
            let before = state.remainingBytes
            guard c.advance(&state, token: token) else { return (text, false) }
            let bytes = Array(c.vocabulary.bytes(of: token))
            if closing && state.remainingBytes != before - bytes.count { return (text, false) }
            text += bytes
        }
        return (text, false)
    }

    static func checkParses(_ text: [UInt8], _ kind: Kind) -> Bool {
        switch kind {
        case .json:
            do {
                _ = try JSONParser.parse(text)
                return true
            } catch {
                // Free keys (json_object) may repeat: a grammar cannot exclude that.
                return error.reason == "duplicate key"
            }
        case .toolCalls:
            let s = String(decoding: text, as: UTF8.self)
            for part in s.components(separatedBy: Grammar.toolCallOpen).dropFirst() {
                guard let body = part.components(separatedBy: Grammar.toolCallClose).first else { return false }
                guard case .object(let pairs)? = try? JSONParser.parse(Array(body.utf8)), pairs.map(\.0) == ["name", "arguments"] else { return false }
            }
            return String(validating: text, as: UTF8.self) != nil
        }
    }

    @Test(arguments: vocabularies, cases)
    func randomWalksGiveParsableDocuments(_ v: Support.LoadedVocabulary, _ c: Case) {
        let constraint = TokenConstraint(grammar: c.grammar, vocabulary: v.vocabulary)
        var states: [ConstraintState] = []
        for seed in 1...6 {
            let (text, ended) = TokenLevelTests.walk(constraint, seed: UInt64(seed), budget: seed % 2 == 0 ? 40 : 120, states: &states)
            #expect(ended, "\(v.name) \(c.name) seed \(seed): no end-of-text: \(String(decoding: text, as: UTF8.self))")
            #expect(TokenLevelTests.checkParses(text, c.kind), "\(v.name) \(c.name) seed \(seed): \(String(decoding: text, as: UTF8.self))")
        }
    }

    @Test(arguments: vocabularies, cases)
    func masksAgreeWithAdvancingEveryToken(_ v: Support.LoadedVocabulary, _ c: Case) {
        let constraint = TokenConstraint(grammar: c.grammar, vocabulary: v.vocabulary)
        var states: [ConstraintState] = []
        _ = TokenLevelTests.walk(constraint, seed: 99, budget: 60, states: &states)
        // The start, a few states along the walk, and the last (complete) one.
        let picked = [states[0]] + stride(from: 3, to: states.count, by: max(1, states.count / 3)).map { states[$0] } + [states.last!]
        for state in picked {
            let mask = constraint.allowed(state)
            var mismatches: [Int32] = []
            for id in 0..<Int32(v.vocabulary.count) {
                var s = state
                if constraint.advance(&s, token: id) != mask.contains(id) { mismatches.append(id) }
            }
            #expect(mismatches.isEmpty, "\(v.name) \(c.name): \(mismatches.prefix(5).map { String(decoding: v.tokenizer.bytes(of: $0), as: UTF8.self) })")
            #expect(mask.contains(v.vocabulary.endOfText) == state.canEnd)
            // closing() is a subset of allowed().
            let closing = constraint.closing(state)
            #expect(zip(closing.words, mask.words).allSatisfy { $0 & ~$1 == 0 })
            #expect(closing.count > 0)
        }
    }

    @Test(arguments: vocabularies, cases)
    func closingFinishesInExactlyRemainingBytes(_ v: Support.LoadedVocabulary, _ c: Case) {
        let constraint = TokenConstraint(grammar: c.grammar, vocabulary: v.vocabulary)
        var states: [ConstraintState] = []
        _ = TokenLevelTests.walk(constraint, seed: 7, budget: 80, states: &states)
        var rng = SeededGenerator(seed: 11)
        for start in stride(from: 0, to: states.count, by: 5).map({ states[$0] }) {
            var state = start
            var bytes = 0
            var text: [UInt8] = []
            while !state.canEnd {
                let mask = constraint.closing(state)
                guard let token = mask.randomElement(using: &rng) else { Issue.record("empty closing mask"); break }
                #expect(constraint.advance(&state, token: token))
                bytes += constraint.vocabulary.bytes(of: token).count
                text += constraint.vocabulary.bytes(of: token)
                if bytes > start.remainingBytes { break }
            }
            #expect(bytes == start.remainingBytes, "\(v.name) \(c.name): \(String(decoding: text, as: UTF8.self))")
            #expect(constraint.closing(state) == constraint.allowed(state) || !state.mustEnd)
        }
    }

    @Test func repeatedStatesHitTheCache() {
        let grammar = TokenLevelTests.cases[0].grammar
        let constraint = TokenConstraint(grammar: grammar, vocabulary: Support.gpt2.vocabulary, cacheCapacity: 8)
        var state = constraint.start()
        #expect(constraint.advance(&state, bytes: Array(#"{"name":""#.utf8)))
        let first = constraint.allowed(state)
        #expect(constraint.cacheStats == (0, 1))
        #expect(constraint.allowed(state) == first)
        #expect(constraint.cacheStats == (1, 1))
        // Inside an unbounded string every character leads back to the same state.
        let free = TokenConstraint(grammar: Grammar.anyJSONObject(), vocabulary: Support.gpt2.vocabulary)
        var a = free.start(), b = free.start()
        #expect(free.advance(&a, bytes: Array(#"{"k":"xy"#.utf8)) && free.advance(&b, bytes: Array(#"{"k":"xyzé w"#.utf8)))
        #expect(a == b && a.hashValue == b.hashValue)
        _ = free.allowed(a)
        _ = free.allowed(b)
        #expect(free.cacheStats == (1, 1))
        // Eviction keeps the cache bounded: more states than capacity, all masks still right.
        var s = constraint.start()
        #expect(constraint.advance(&s, bytes: Array(#"{"name":"x","age":"#.utf8)))
        var digits = s
        for d in "1234567".utf8 {
            _ = constraint.allowed(digits)
            _ = constraint.advance(&digits, bytes: [d])
        }
        #expect(constraint.allowed(state) == first)
    }

    @Test func concurrentUseGivesTheSameMasks() {
        let c = TokenLevelTests.cases[1]
        let constraint = TokenConstraint(grammar: c.grammar, vocabulary: Support.project.vocabulary, cacheCapacity: 16)
        var states: [ConstraintState] = []
        _ = TokenLevelTests.walk(constraint, seed: 5, budget: 60, states: &states)
        let reference = TokenConstraint(grammar: c.grammar, vocabulary: Support.project.vocabulary, cacheCapacity: 0)
        let expected = states.map { reference.allowed($0) }
        let failures = Atomic<Int>(0)
        let visited = states
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for (i, state) in visited.enumerated() where (i + worker) % 2 == 0 {
                if constraint.allowed(state) != expected[i] { failures.add(1, ordering: .relaxed) }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
    }
}
