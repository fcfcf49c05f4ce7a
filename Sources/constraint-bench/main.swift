// Token-mask cost per generated token: `swift run -c release constraint-bench <tokenizer.json>...`.
//
// For each tokenizer: builds the vocabulary trie, then for a few schemas runs simulated
// generations (random walks picking uniformly among the allowed tokens, ~2,000 tokens each,
// documents restarted as they end) and prints the cost of allowed()+advance() per token, split
// into mask-cache misses and hits, and the hit rate.

import Foundation
import MonotonicTime
import StrictJSON
import StructuredOutput
import Tokenization

let paths = Array(CommandLine.arguments.dropFirst())
guard !paths.isEmpty else {
    print("usage: constraint-bench <tokenizer.json>...")
    exit(2)
}

let flat = #"""
{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},"email":{"type":"string"},
 "active":{"type":"boolean"},"score":{"type":"number"}},"required":["name","age","email","active","score"],"additionalProperties":false}
"""#
let nested = #"""
{"$defs":{
  "Address":{"type":"object","title":"Address","properties":{"street":{"type":"string","title":"Street"},"city":{"type":"string","title":"City"},
    "zip":{"anyOf":[{"type":"string","maxLength":10},{"type":"null"}],"title":"Zip"}},"required":["street","city","zip"],"additionalProperties":false},
  "Status":{"type":"string","enum":["active","inactive","banned"],"title":"Status"},
  "Item":{"type":"object","title":"Item","properties":{"sku":{"type":"string"},"quantity":{"type":"integer","minimum":1,"maximum":1000},
    "price":{"type":"number"},"tags":{"type":"array","items":{"type":"string"},"maxItems":5}},"required":["sku","quantity","price","tags"],"additionalProperties":false},
  "Category":{"type":"object","properties":{"name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#/$defs/Category"}}},
    "required":["name","children"],"additionalProperties":false}},
 "type":"object","title":"Order","properties":{
  "id":{"type":"integer","title":"Id"},"customer":{"type":"string","title":"Customer"},"status":{"$ref":"#/$defs/Status"},
  "shipping":{"$ref":"#/$defs/Address"},"billing":{"anyOf":[{"$ref":"#/$defs/Address"},{"type":"null"}]},
  "items":{"type":"array","items":{"$ref":"#/$defs/Item"},"minItems":1},"category":{"$ref":"#/$defs/Category"},
  "notes":{"anyOf":[{"type":"string"},{"type":"null"}],"default":null}},
 "required":["id","customer","status","shipping","billing","items","category"],"additionalProperties":false}
"""#

struct Schema { let name: String; let grammar: Grammar }

func parse(_ text: String) -> JSON { try! JSONParser.parse(Array(text.utf8)) }

var timer = monotonicNanoseconds()
let schemas = [
    Schema(name: "flat object", grammar: try! Grammar.jsonSchema(parse(flat))),
    Schema(name: "nested $defs", grammar: try! Grammar.jsonSchema(parse(nested))),
    Schema(name: "json_object", grammar: Grammar.anyJSONObject()),
]
print(String(format: "grammars compiled in %.2f ms", Double(monotonicNanoseconds() - timer) / 1e6))

/// SplitMix64.
struct Generator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}


for path in paths {
    timer = monotonicNanoseconds()
    let tokenizer = try Tokenizer(contentsOf: URL(fileURLWithPath: path))
    let loaded = Double(monotonicNanoseconds() - timer) / 1e6
    let eot = tokenizer.id(forToken: "<|endoftext|>") ?? tokenizer.addedTokens.first { $0.special }!.id
    let excluded = Set(tokenizer.addedTokens.filter(\.special).map(\.id))
    let bytes = (0..<tokenizer.vocabSize).map { tokenizer.bytes(of: Int32($0)) }
    timer = monotonicNanoseconds()
    let vocabulary = TokenVocabulary(tokenBytes: bytes, endOfText: eot, excluded: excluded)
    let built = Double(monotonicNanoseconds() - timer) / 1e6
    print("\n\(path): \(vocabulary.count) tokens; tokenizer loaded in \(String(format: "%.0f", loaded)) ms, vocabulary trie built in \(String(format: "%.1f", built)) ms")
    // The expensive case: a state inside a string allows almost every token, so the walk visits
    // almost the whole trie. Timed uncached.
    for (label, prefix) in [("inside a string", #"{"name":"ab"#), ("after a key's colon", #"{"name":"#), ("start", "")] {
        let uncached = TokenConstraint(grammar: schemas[0].grammar, vocabulary: vocabulary, cacheCapacity: 0)
        var state = uncached.start()
        precondition(uncached.advance(&state, bytes: Array(prefix.utf8)))
        var allowed = 0
        let runs = 20
        timer = monotonicNanoseconds()
        for _ in 0..<runs { allowed = uncached.allowed(state).count }
        print(String(format: "  uncached mask %@: %.1f µs (%d tokens allowed)", label.padding(toLength: 20, withPad: " ", startingAt: 0),
                     Double(monotonicNanoseconds() - timer) / Double(runs) / 1e3, allowed))
    }
    do {
        // advance() on every token of the vocabulary from one state (most are refused at the first byte).
        let c = TokenConstraint(grammar: schemas[1].grammar, vocabulary: vocabulary)
        var state = c.start()
        precondition(c.advance(&state, bytes: Array(#"{"id":1,"customer":"#.utf8)))
        timer = monotonicNanoseconds()
        var accepted = 0
        for id in 0..<Int32(vocabulary.count) {
            var s = state
            if c.advance(&s, token: id) { accepted += 1 }
        }
        print(String(format: "  advance() over the whole vocabulary: %.3f µs per token (%d accepted)",
                     Double(monotonicNanoseconds() - timer) / Double(vocabulary.count) / 1e3, accepted))
    }
    print("  schema          tokens  docs  hit rate   miss µs (n)        hit µs   mean µs   closing µs (n)")
    for schema in schemas {
        let constraint = TokenConstraint(grammar: schema.grammar, vocabulary: vocabulary)
        var rng = Generator(state: 42)
        var missNs: UInt64 = 0, hitNs: UInt64 = 0, closingNs: UInt64 = 0
        var misses = 0, hits = 0, closings = 0, documents = 0
        let total = 2_000
        let documentBudget = 400
        var state = constraint.start()
        var used = 0
        for _ in 0..<total {
            let closing = documentBudget - used <= state.remainingBytes + 1
            let before = constraint.cacheStats.misses
            let t0 = monotonicNanoseconds()
            let mask = closing ? constraint.closing(state) : constraint.allowed(state)
            let t1 = monotonicNanoseconds()
            let token = mask.randomElement(using: &rng)!
            let t2 = monotonicNanoseconds()
            let ok = constraint.advance(&state, token: token)
            let t3 = monotonicNanoseconds()
            precondition(ok, "advance refused a token of the mask")
            let ns = (t1 - t0) + (t3 - t2)
            if closing { closingNs += ns; closings += 1 }
            else if constraint.cacheStats.misses > before { missNs += ns; misses += 1 }
            else { hitNs += ns; hits += 1 }
            used += 1
            if token == eot || state.mustEnd {
                if token != eot { used += 0 }
                documents += 1
                state = constraint.start()
                used = 0
            }
        }
        func us(_ ns: UInt64, _ n: Int) -> String { n == 0 ? "-" : String(format: "%.1f", Double(ns) / Double(n) / 1e3) }
        let measured = misses + hits
        print("  " + schema.name.padding(toLength: 14, withPad: " ", startingAt: 0)
              + String(format: "%8d %5d %8.1f%%", total, documents, 100 * Double(hits) / Double(max(measured, 1)))
              + "  " + "\(us(missNs, misses)) (\(misses))".padding(toLength: 18, withPad: " ", startingAt: 0)
              + us(hitNs, hits).padding(toLength: 9, withPad: " ", startingAt: 0)
              + us(missNs + hitNs, measured).padding(toLength: 10, withPad: " ", startingAt: 0)
              + "\(us(closingNs, closings)) (\(closings))")
    }
}
