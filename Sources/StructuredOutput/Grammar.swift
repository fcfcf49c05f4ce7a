import StrictJSON

/// Why a schema (or a tool list) can't be turned into a grammar. `path` is a JSON pointer into
/// the schema ("#/properties/a"), prefixed with the tool ("tools[0].parameters#/...") for tools.
public enum SchemaError: Error, Equatable, CustomStringConvertible {
    /// A keyword the compiler does not implement (see `Grammar.jsonSchema`), or one used in a way it
    /// does not implement (allOf with two subschemas, a remote $ref, a sibling beside anyOf).
    case unsupportedKeyword(path: String, keyword: String)
    /// The schema is malformed, or no document satisfies it.
    case invalid(path: String, reason: String)
    /// A size limit of the grammar is exceeded (`Grammar.maxRules`, `maxElements`, `maxExpansion`).
    case tooComplex(String)

    public var description: String {
        switch self {
        case let .unsupportedKeyword(path, keyword): "unsupported JSON Schema keyword \"\(keyword)\" at \(path)"
        case let .invalid(path, reason): "invalid schema at \(path): \(reason)"
        case let .tooComplex(reason): "schema too complex: \(reason)"
        }
    }
}

/// A function the model may call: its name and the JSON Schema of its arguments (nil: any object).
public struct ToolSpec: Sendable {
    public let name: String
    public let parameters: JSON?
    public init(name: String, parameters: JSON?) {
        self.name = name
        self.parameters = parameters
    }
}

public enum ToolCallMode: Sendable, Equatable {
    /// Free text, optionally followed by calls.
    case auto
    /// Calls only.
    case required
    /// Calls of this tool only.
    case named(String)
}

/// A byte-level grammar, compiled once, immutable, shareable between threads.
///
/// Rules are alternatives of sequences of elements, an element a byte set or a rule reference;
/// a grammar is matched by a pushdown matcher (`TokenConstraint`), whose state is a set of stacks.
/// Left recursion is rejected at compile time, as are rules that can never finish (their
/// alternatives are dropped; a grammar whose root can never finish is invalid).
///
/// Limits (exceeding one throws `SchemaError.tooComplex`): `maxRules` rules, `maxElements`
/// elements of all sequences together, and `maxExpansion` entries in the precomputed expansion
/// tables. Length bounds (maxLength, maxItems, integer ranges) unroll into rules and count toward
/// them: a string with maxLength 1000 costs ~1000 rules (shared by every string of the same bounds).
public final class Grammar: Sendable {
    public static let maxRules = 20_000
    public static let maxElements = 500_000
    public static let maxExpansion = 4_000_000

    public static let toolCallOpen = "<tool_call>", toolCallClose = "</tool_call>"

    let tables: GrammarTables

    init(_ builder: GrammarBuilder, root: Int, context: String = "#") throws(SchemaError) {
        tables = try GrammarTables(builder, root: root, context: context)
    }

    /// Rules after pruning and the number of grammar elements, for diagnostics.
    public var size: (rules: Int, elements: Int) { (tables.ruleCount, tables.elems.count) }

    /// A document valid against the schema, in the subset of serialisations the JSON pieces
    /// accept (whitespace, numbers: see JSONPieces.swift), with object properties in the order of
    /// `properties` (as OpenAI's strict mode writes them).
    ///
    /// Supported: `type` (a name or a list), `properties`, `required` (every required name must be
    /// declared), `additionalProperties` (absent is taken as false when `properties` is given, as true
    /// otherwise: {"type": "object"} is any object; true or a schema allows extra
    /// properties after the declared ones, whose names differ from every declared name), `items`,
    /// `prefixItems`, `minItems`, `maxItems`, `enum`, `const`, `anyOf`, `oneOf` (as anyOf: a
    /// document matching two branches is not excluded), `allOf` with one subschema, `minLength`,
    /// `maxLength`, `minimum`/`maximum`/`exclusiveMinimum`/`exclusiveMaximum` (integers: exact
    /// digit ranges; numbers: written without an exponent and compared with the bounds digit by
    /// digit), `format` "date", "time", "date-time" (RFC 3339) and "uuid", `$defs`/`definitions`
    /// with `$ref` to any local pointer ("#", "#/$defs/Name", ...; recursion included).
    /// Ignored annotations: title, description, default, examples, $schema, $id, $comment, strict,
    /// deprecated, readOnly, writeOnly, discriminator (OpenAPI's, beside a oneOf: changes nothing
    /// that is validated). Anything else (pattern, other formats, multipleOf, uniqueItems,
    /// patternProperties, propertyNames, min/maxProperties, not, if/then/else, ...) throws
    /// `unsupportedKeyword`. `$ref`, `anyOf`, `oneOf` and `allOf` take only annotations beside
    /// them; `enum`/`const` take `type` and the length and bound keywords beside them.
    ///
    /// Without `type`, the types are inferred from the keywords present (properties → object,
    /// items → array, minLength → string, minimum → number; none → any value): stricter than JSON
    /// Schema, where such a schema also accepts values of other types. Strings: lengths count
    /// code points; enum/const strings and property names must be spelled canonically (UTF-8 as
    /// is, escapes only where JSON requires one: `\"`, `\\`, `\b \f \n \r \t`, `\u00xx`).
    public static func jsonSchema(_ schema: JSON) throws(SchemaError) -> Grammar {
        var compiler = SchemaCompiler(root: schema, pathPrefix: "", builder: GrammarBuilder())
        let root = try compiler.compile(schema, path: "#")
        return try Grammar(compiler.builder, root: root)
    }

    private static let anyObject: Grammar = {
        var b = GrammarBuilder()
        let root = try! b.anyObject()
        return try! Grammar(b, root: root)
    }()

    /// Any JSON object (response_format json_object), in the serialisations of JSONPieces.swift.
    public static func anyJSONObject() -> Grammar { anyObject }

    /// Tool calls in the text: `<tool_call>` JSON `</tool_call>`, JSON = {"name": "<one of the
    /// names>", "arguments": <that tool's parameters schema>}, keys in that order, an optional
    /// newline after `<tool_call>` and before `</tool_call>`.
    /// .required / .named: the output is one call (or, with parallel, one or more separated by
    /// "\n"), nothing else. .auto: any free text (valid UTF-8) not containing "<tool_call>",
    /// optionally followed by calls as above (after the first call only further calls).
    public static func toolCalls(_ tools: [ToolSpec], mode: ToolCallMode, parallel: Bool) throws(SchemaError) -> Grammar {
        try ToolCallGrammar.make(tools, mode: mode, parallel: parallel)
    }
}

/// Trivial values in a buffer that never moves or changes, owned by this object: the matcher's
/// inner loops read it through a raw pointer, without bounds checks or reference counting.
final class FrozenBuffer<T: BitwiseCopyable>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
    let count: Int

    init(_ values: [T]) {
        count = values.count
        base = .allocate(capacity: Swift.max(values.count, 1))
        values.withUnsafeBufferPointer { if let b = $0.baseAddress { base.initialize(from: b, count: values.count) } }
    }

    deinit { base.deallocate() }

    var pointer: UnsafePointer<T> { UnsafePointer(base) }
}

/// The compiled grammar: flat tables the matcher reads.
///
/// Positions index `elems`, the elements of every alternative laid end to end, each alternative
/// ended by `end`. Position 0 is the start: a reference to the root, then `end`. A stack is a
/// list of positions: the top is where matching goes on (a terminal, or a reference not yet
/// expanded: expansion waits for the next byte), the frames below it are the continuations to
/// return to. For every reference position that can be a top, the tables hold, for each byte,
/// what the stack becomes after that byte (`classes`: bytes with the same outcome share a class).
final class GrammarTables: Sendable {
    static let end: Int32 = -1

    /// Per position: byte set id (>= 0), `end` (-1), or a reference to rule r (-2 - r).
    let elems: FrozenBuffer<Int32>
    /// 4 words per byte set.
    let setWords: FrozenBuffer<UInt64>
    /// Per position: fewest bytes from here to the end of the alternative.
    let suffixMin: FrozenBuffer<Int32>
    /// Per position: the rest of the alternative can match nothing / can match a byte.
    let nullable: FrozenBuffer<Bool>
    let consumes: FrozenBuffer<Bool>
    /// Per position, two entries: the offset of its 256-entry class map in `classes`, and the
    /// index in `classEntry` of its class 0 (both -1 where the position is not a reference top).
    let stepInfo: FrozenBuffer<Int32>
    let classes: FrozenBuffer<UInt16>
    /// What a class of bytes does to the stack, per (position, class):
    /// >= 0: the new top, no frames pushed (the common case); `pop`: pop, no frames; `none`: the
    /// byte is refused; otherwise -2 - i: the results resultRanges[2i] ..< resultRanges[2i + 1].
    let classEntry: FrozenBuffer<Int32>
    static let pop: Int32 = -1, none = Int32.min
    let resultRanges: FrozenBuffer<Int32>
    /// (new top, frameStart, frameEnd) per result: frames[frameStart..<frameEnd] are pushed (bottom
    /// first) and the new top goes above them; a new top of -1 means "pop" (no frames).
    let results: FrozenBuffer<Int32>
    let frames: FrozenBuffer<Int32>
    let ruleCount: Int

    init(_ builder: GrammarBuilder, root: Int, context: String) throws(SchemaError) {
        let rules = builder.rules
        let names = builder.names
        let n = rules.count

        // Fewest bytes each rule matches (Knuth's generalisation of Dijkstra); rules that never
        // finish keep Int.max.
        var minLength = [Int](repeating: Int.max, count: n)
        do {
            var altRule: [Int] = [], altPending: [Int] = [], altSum: [Int] = []
            var users = [[Int]](repeating: [], count: n)
            for r in 0..<n {
                for alt in rules[r] {
                    let id = altRule.count
                    var pending = 0, sum = 0, dead = false
                    for e in alt {
                        switch e {
                        case .bytes(let s): if s.isEmpty { dead = true }; sum += 1
                        case .rule(let s): pending += 1; users[s].append(id)
                        }
                    }
                    altRule.append(r); altPending.append(dead ? Int.max : pending); altSum.append(sum)
                }
            }
            var heap = MinHeap()
            for id in altRule.indices where altPending[id] == 0 { heap.push(altSum[id], altRule[id]) }
            while let (length, r) = heap.pop() {
                if minLength[r] != Int.max { continue }
                minLength[r] = length
                for id in users[r] where altPending[id] != Int.max {
                    altSum[id] = Swift.min(altSum[id] + length, GrammarTables.lengthCap)
                    altPending[id] -= 1
                    if altPending[id] == 0 { heap.push(altSum[id], altRule[id]) }
                }
            }
        }
        guard minLength[root] != Int.max else {
            throw .invalid(path: context, reason: "no finite document satisfies it")
        }
        func productive(_ e: Element) -> Bool {
            switch e {
            case .bytes(let s): !s.isEmpty
            case .rule(let r): minLength[r] != Int.max
            }
        }

        // Keep the alternatives that can finish, and the rules reachable from the root.
        var renumber = [Int](repeating: -1, count: n)
        var order: [Int] = [root]
        renumber[root] = 0
        var pruned: [[[Element]]] = []
        var i = 0
        while i < order.count {
            let r = order[i]
            i += 1
            var alternatives: [[Element]] = []
            for alt in rules[r] where alt.allSatisfy(productive) {
                alternatives.append(alt)
                for case .rule(let s) in alt where renumber[s] < 0 {
                    renumber[s] = order.count
                    order.append(s)
                }
            }
            pruned.append(alternatives)
        }
        let ruleCount = order.count
        let ruleMin = order.map { minLength[$0] }
        let ruleNullable = ruleMin.map { $0 == 0 }

        // Left recursion: a rule reached again before a byte is matched.
        var leftEdges = [[Int]](repeating: [], count: ruleCount)
        for r in 0..<ruleCount {
            for alt in pruned[r] {
                for e in alt {
                    guard case .rule(let s) = e else { break }
                    let t = renumber[s]
                    if !leftEdges[r].contains(t) { leftEdges[r].append(t) }
                    if !ruleNullable[t] { break }
                }
            }
        }
        // Iterative DFS: postorder (dependencies first) for the expansions below, cycles rejected.
        var color = [UInt8](repeating: 0, count: ruleCount)
        var postorder: [Int] = []
        postorder.reserveCapacity(ruleCount)
        for start in 0..<ruleCount where color[start] == 0 {
            var stack: [(rule: Int, edge: Int)] = [(start, 0)]
            color[start] = 1
            while let (r, k) = stack.last {
                if k < leftEdges[r].count {
                    stack[stack.count - 1].edge += 1
                    let s = leftEdges[r][k]
                    if color[s] == 1 {
                        let cycle = stack.map(\.rule).drop(while: { $0 != s }).map { names[order[$0]] } + [names[order[s]]]
                        throw .invalid(path: context, reason: "left recursion (a reference cycle that matches nothing in between): \(cycle.joined(separator: " → "))")
                    }
                    if color[s] == 0 {
                        color[s] = 1
                        stack.append((s, 0))
                    }
                } else {
                    color[r] = 2
                    postorder.append(r)
                    stack.removeLast()
                }
            }
        }

        // Flatten.
        var setIDs: [ByteSet: Int32] = [:]
        var setWords: [UInt64] = []
        var elems: [Int32] = [-2, GrammarTables.end]   // position 0: the root (rule 0), then end
        var altStarts = [[Int32]](repeating: [], count: ruleCount)
        for r in 0..<ruleCount {
            for alt in pruned[r] {
                altStarts[r].append(Int32(elems.count))
                for e in alt {
                    switch e {
                    case .bytes(let s):
                        if let id = setIDs[s] {
                            elems.append(id)
                        } else {
                            let id = Int32(setIDs.count)
                            setIDs[s] = id
                            setWords += [s.w0, s.w1, s.w2, s.w3]
                            elems.append(id)
                        }
                    case .rule(let s):
                        elems.append(-2 - Int32(renumber[s]))
                    }
                }
                elems.append(GrammarTables.end)
                guard elems.count <= Grammar.maxElements else {
                    throw .tooComplex("the grammar needs more than \(Grammar.maxElements) elements")
                }
            }
        }
        let count = elems.count

        // Rule-level: can match a byte at all.
        var ruleConsumes = [Bool](repeating: false, count: ruleCount)
        do {
            var users = [[Int]](repeating: [], count: ruleCount)
            var queue: [Int] = []
            for r in 0..<ruleCount {
                for alt in pruned[r] {
                    for e in alt {
                        switch e {
                        case .bytes: if !ruleConsumes[r] { ruleConsumes[r] = true; queue.append(r) }
                        case .rule(let s): users[renumber[s]].append(r)
                        }
                    }
                }
            }
            while let s = queue.popLast() {
                for r in users[s] where !ruleConsumes[r] { ruleConsumes[r] = true; queue.append(r) }
            }
        }

        // Per position, from the end of each alternative backwards.
        var suffixMin = [Int32](repeating: 0, count: count)
        var nullable = [Bool](repeating: true, count: count)
        var consumes = [Bool](repeating: false, count: count)
        for p in stride(from: count - 1, through: 0, by: -1) {
            let e = elems[p]
            if e == GrammarTables.end { continue }
            let next = p + 1
            if e >= 0 {
                suffixMin[p] = Int32(Swift.min(1 + Int(suffixMin[next]), GrammarTables.lengthCap))
                nullable[p] = false
                consumes[p] = true
            } else {
                let s = Int(-2 - e)
                suffixMin[p] = Int32(Swift.min(ruleMin[s] + Int(suffixMin[next]), GrammarTables.lengthCap))
                nullable[p] = ruleNullable[s] && nullable[next]
                consumes[p] = ruleConsumes[s] || consumes[next]
            }
        }

        // Expansions: what a reference becomes before its first byte, as (terminal, frames pushed).
        var budget = Grammar.maxExpansion
        var ruleExpansion = [[Expansion]](repeating: [], count: ruleCount)
        func scan(_ start: Int, into out: inout [Expansion], seen: inout Set<Expansion>) throws(SchemaError) {
            var p = start
            while true {
                let e = elems[p]
                if e == GrammarTables.end { return }
                if e >= 0 {
                    let x = Expansion(top: Int32(p), frames: [])
                    if seen.insert(x).inserted { out.append(x) }
                    return
                }
                let s = Int(-2 - e)
                let hasCont = elems[p + 1] != GrammarTables.end
                for x in ruleExpansion[s] {
                    let y = hasCont ? Expansion(top: x.top, frames: [Int32(p + 1)] + x.frames) : x
                    if seen.insert(y).inserted {
                        out.append(y)
                        budget -= 1 + y.frames.count
                    }
                }
                guard budget > 0 else { throw .tooComplex("the grammar's expansion tables exceed \(Grammar.maxExpansion) entries") }
                if !ruleNullable[s] { return }
                p += 1
            }
        }
        for r in postorder {
            var out: [Expansion] = []
            var seen = Set<Expansion>()
            for a in altStarts[r] { try scan(Int(a), into: &out, seen: &seen) }
            ruleExpansion[r] = out
        }

        // Step tables for every reference that can be a top: the start, and positions after an
        // element (after a terminal; continuations after a reference).
        var stepInfo = [Int32](repeating: -1, count: 2 * count)
        var classes: [UInt16] = []
        var classEntry: [Int32] = []
        var resultRanges: [Int32] = []
        var results: [Int32] = []
        var frames: [Int32] = []
        var frameIDs: [[Int32]: Int32] = [:]
        struct Partition { let map: Int32; let members: [[Int]] }
        var partitions: [[Int32]: Partition] = [:]
        for q in 0..<count where elems[q] < GrammarTables.end && (q == 0 || elems[q - 1] != GrammarTables.end) {
            var expansion: [Expansion] = []
            var seen = Set<Expansion>()
            try scan(q, into: &expansion, seen: &seen)
            let key = expansion.map { elems[Int($0.top)] }
            let partition: Partition
            if let known = partitions[key] {
                partition = known
            } else {
                var classOf: [[Int]: UInt16] = [[]: 0]
                var members: [[Int]] = [[]]
                let map = Int32(classes.count)
                for b in 0..<256 {
                    var matching: [Int] = []
                    for (i, set) in key.enumerated() where setWords[Int(set) * 4 + b >> 6] >> UInt64(b & 63) & 1 != 0 {
                        matching.append(i)
                    }
                    if let c = classOf[matching] {
                        classes.append(c)
                    } else {
                        let c = UInt16(members.count)
                        classOf[matching] = c
                        members.append(matching)
                        classes.append(c)
                    }
                }
                partition = Partition(map: map, members: members)
                partitions[key] = partition
            }
            stepInfo[2 * q] = partition.map
            stepInfo[2 * q + 1] = Int32(classEntry.count)
            for members in partition.members {
                var advancedResults: [Expansion] = []
                var done = Set<Expansion>()
                for i in members {
                    let x = expansion[i]
                    // After its byte the terminal moves on; at the end of its alternative the stack pops.
                    let advanced: Expansion
                    if elems[Int(x.top) + 1] != GrammarTables.end {
                        advanced = Expansion(top: x.top + 1, frames: x.frames)
                    } else if let last = x.frames.last {
                        advanced = Expansion(top: last, frames: Array(x.frames.dropLast()))
                    } else {
                        advanced = Expansion(top: -1, frames: [])
                    }
                    if done.insert(advanced).inserted { advancedResults.append(advanced) }
                }
                if advancedResults.isEmpty {
                    classEntry.append(GrammarTables.none)
                    continue
                }
                if advancedResults.count == 1 && advancedResults[0].frames.isEmpty {
                    classEntry.append(advancedResults[0].top)   // a top, or -1: pop
                    continue
                }
                classEntry.append(-2 - Int32(resultRanges.count / 2))
                resultRanges.append(Int32(results.count / 3))
                for advanced in advancedResults {
                    let start: Int32
                    if let known = frameIDs[advanced.frames] {
                        start = known
                    } else {
                        start = Int32(frames.count)
                        frames += advanced.frames
                        frameIDs[advanced.frames] = start
                    }
                    results += [advanced.top, start, start + Int32(advanced.frames.count)]
                }
                resultRanges.append(Int32(results.count / 3))
            }
            guard results.count + frames.count + classes.count + classEntry.count <= Grammar.maxExpansion else {
                throw .tooComplex("the grammar's step tables exceed \(Grammar.maxExpansion) entries")
            }
        }

        self.elems = FrozenBuffer(elems)
        self.setWords = FrozenBuffer(setWords)
        self.suffixMin = FrozenBuffer(suffixMin)
        self.nullable = FrozenBuffer(nullable)
        self.consumes = FrozenBuffer(consumes)
        self.stepInfo = FrozenBuffer(stepInfo)
        self.classes = FrozenBuffer(classes)
        self.classEntry = FrozenBuffer(classEntry)
        self.resultRanges = FrozenBuffer(resultRanges)
        self.results = FrozenBuffer(results)
        self.frames = FrozenBuffer(frames)
        self.ruleCount = ruleCount
    }

    /// Lengths saturate here (remainingBytes sums them over frames).
    static let lengthCap = 1 << 28

    struct Expansion: Hashable {
        let top: Int32
        let frames: [Int32]
    }

}

/// A binary min-heap of (key, value) for the min-length computation.
struct MinHeap {
    private var items: [(Int, Int)] = []

    mutating func push(_ key: Int, _ value: Int) {
        items.append((key, value))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if items[parent].0 <= items[i].0 { break }
            items.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> (Int, Int)? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count, items[l].0 < items[m].0 { m = l }
                if r < items.count, items[r].0 < items[m].0 { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return first
    }
}
