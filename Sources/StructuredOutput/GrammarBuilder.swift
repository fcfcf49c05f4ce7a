/// One element of a grammar sequence: a byte set (the terminal), or a reference to a rule.
enum Element: Hashable, Sendable {
    case bytes(ByteSet)
    case rule(Int)
}

/// A grammar under construction: rules of alternatives of sequences of elements. Compiled by
/// `GrammarTables` into the tables the matcher reads; the JSON pieces (JSONPieces.swift), the
/// schema compiler and the tool-call grammar build on it.
struct GrammarBuilder {
    /// Alternatives of each rule.
    private(set) var rules: [[[Element]]] = []
    /// Each rule's name, for error messages (left recursion) and debugging.
    private(set) var names: [String] = []
    /// Shared pieces (whitespace, string bodies, numbers), built once per grammar, by key.
    var memo: [String: Int] = [:]

    /// A new rule with no alternatives yet (`define` fills it): lets a rule refer to itself.
    mutating func declare(_ name: String) throws(SchemaError) -> Int {
        guard rules.count < Grammar.maxRules else {
            throw .tooComplex("the grammar needs more than \(Grammar.maxRules) rules")
        }
        rules.append([])
        names.append(name)
        return rules.count - 1
    }

    mutating func define(_ rule: Int, _ alternatives: [[Element]]) {
        rules[rule] = alternatives
    }

    mutating func rule(_ name: String, _ alternatives: [[Element]]) throws(SchemaError) -> Int {
        let r = try declare(name)
        define(r, alternatives)
        return r
    }

    /// A rule matching exactly the sequence (no new rule when it is a single reference).
    mutating func rule(_ name: String, sequence: [Element]) throws(SchemaError) -> Int {
        if sequence.count == 1, case .rule(let r) = sequence[0] { return r }
        return try rule(name, [sequence])
    }

    /// Bytes as a sequence of one-byte sets.
    static func literal(_ bytes: some Sequence<UInt8>) -> [Element] { bytes.map { .bytes(ByteSet($0)) } }

    static func literal(_ text: String) -> [Element] { literal(text.utf8) }

    /// Alternatives matching exactly the given byte strings, each followed by its tail, with common
    /// prefixes shared: a byte string and its tail become one path in a trie of rules, so matching
    /// a key among many keeps one stack instead of one per key.
    mutating func trie(_ name: String, _ entries: [(bytes: [UInt8], tail: [Element])]) throws(SchemaError) -> [[Element]] {
        try trie(name, entries, depth: 0)
    }

    private mutating func trie(_ name: String, _ entries: [(bytes: [UInt8], tail: [Element])], depth: Int) throws(SchemaError) -> [[Element]] {
        var alternatives: [[Element]] = []
        var seenLeaves = Set<[Element]>()
        var groups: [UInt8: [(bytes: [UInt8], tail: [Element])]] = [:]
        var order: [UInt8] = []
        for e in entries {
            if e.bytes.count == depth {
                if seenLeaves.insert(e.tail).inserted { alternatives.append(e.tail) }
            } else {
                let b = e.bytes[depth]
                if groups[b] == nil { order.append(b) }
                groups[b, default: []].append(e)
            }
        }
        for b in order {
            let group = groups[b]!
            // Extend along bytes that every entry of the group shares (and none ends within).
            var end = depth + 1
            while group.allSatisfy({ $0.bytes.count > end }), group.allSatisfy({ $0.bytes[end] == group[0].bytes[end] }) { end += 1 }
            var sequence = GrammarBuilder.literal(group[0].bytes[depth..<end])
            let rest = try trie(name, group, depth: end)
            if rest.count == 1 {
                sequence += rest[0]
            } else {
                sequence.append(.rule(try rule(name, rest)))
            }
            alternatives.append(sequence)
        }
        return alternatives
    }
}

// MARK: - UTF-8

enum UTF8Ranges {
    /// Byte-range sequences matching exactly the UTF-8 encodings of the scalars in `lo...hi`
    /// (surrogates excluded), as in regex engines (Russ Cox's utf8 ranges).
    static func sequences(_ lo: UInt32, _ hi: UInt32) -> [[ClosedRange<UInt8>]] {
        var out: [[ClosedRange<UInt8>]] = []
        for (a, b) in [(lo, min(hi, 0xD7FF)), (max(lo, 0xE000), min(hi, 0x10FFFF))] where a <= b {
            out += split(a, b)
        }
        return out
    }

    private static func split(_ lo: UInt32, _ hi: UInt32) -> [[ClosedRange<UInt8>]] {
        var out: [[ClosedRange<UInt8>]] = []
        var stack = [(lo, hi)]
        outer: while let (s0, e0) = stack.popLast() {
            let s = s0
            var e = e0
            inner: while true {
                for maxValue: UInt32 in [0x7F, 0x7FF, 0xFFFF] where s <= maxValue && maxValue < e {
                    stack.append((maxValue + 1, e))
                    e = maxValue
                    continue inner
                }
                if e <= 0x7F {
                    out.append([UInt8(s)...UInt8(e)])
                    continue outer
                }
                for i: UInt32 in 1..<4 {
                    let m: UInt32 = (1 << (6 * i)) - 1
                    if s & ~m != e & ~m {
                        if s & m != 0 {
                            stack.append(((s | m) + 1, e))
                            e = s | m
                            continue inner
                        }
                        if e & m != m {
                            stack.append((e & ~m, e))
                            e = (e & ~m) - 1
                            continue inner
                        }
                    }
                }
                let a = encode(s), b = encode(e)
                out.append(zip(a, b).map { $0...$1 })
                continue outer
            }
        }
        return out
    }

    static func encode(_ c: UInt32) -> [UInt8] {
        Array(String(Character(Unicode.Scalar(c)!)).utf8)
    }
}
