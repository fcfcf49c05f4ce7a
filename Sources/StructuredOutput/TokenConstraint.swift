import Synchronization

/// A set of allowed token ids as a bitset, words[id >> 6] bit (id & 63).
public struct TokenMask: Sendable, Equatable {
    public let words: [UInt64]
    /// The number of allowed tokens.
    public let count: Int

    init(words: [UInt64]) {
        self.words = words
        count = words.reduce(0) { $0 + $1.nonzeroBitCount }
    }

    public func contains(_ id: Int32) -> Bool {
        guard id >= 0, Int(id >> 6) < words.count else { return false }
        return words[Int(id >> 6)] >> UInt64(id & 63) & 1 != 0
    }

    /// The allowed token of rank `k` (0-based, in id order); nil past the last.
    public func token(rank k: Int) -> Int32? {
        var k = k
        for (w, word) in words.enumerated() {
            let c = word.nonzeroBitCount
            if k >= c { k -= c; continue }
            var bits = word
            for _ in 0..<k { bits &= bits - 1 }
            return Int32(w * 64 + bits.trailingZeroBitCount)
        }
        return nil
    }

    /// A uniformly random allowed token (random walks in tests and the benchmark); nil when none is.
    public func randomElement(using rng: inout some RandomNumberGenerator) -> Int32? {
        count == 0 ? nil : token(rank: Int.random(in: 0..<count, using: &rng))
    }
}

/// The matcher's position: a value; Hashable so masks are cached per state.
///
/// A canonical set of stacks (sorted, deduplicated), each a list of grammar positions, bottom
/// first, so that the same position in the grammar reached by different texts is the same state
/// (inside an unbounded string every character leads back to one state). An empty set would be
/// the dead state (`isDead`: no token, not even end-of-text); `advance` never produces it, since
/// it refuses bytes the grammar does not allow.
///
/// Run-time limits (`Scratch.maxFrames`, `Scratch.maxStacks`): a stack deeper than 500 frames,
/// or a state of more than 4096 stacks, counts as not allowed: masks leave out the tokens that
/// lead there and `advance` refuses them. A state all of whose continuations hit a limit allows
/// nothing, not end-of-text either (a dead end: JSON nested ~500 deep); the JSON Schema and tool
/// grammars keep a handful of stacks per state (alternatives share their prefixes by construction).
public struct ConstraintState: Hashable, Sendable {
    let stacks: [Int32]
    /// The grammar the positions are of: a state handed to another grammar's constraint traps
    /// rather than read other tables.
    let grammar: ObjectIdentifier
    private let hashCode: Int
    /// The text so far is a complete document.
    public let canEnd: Bool
    /// Complete, and no byte can follow.
    public let mustEnd: Bool
    /// Fewest bytes that complete the document (0 when canEnd; Int.max when dead).
    public let remainingBytes: Int

    /// No token and not end-of-text can follow.
    public var isDead: Bool { stacks.isEmpty }

    init(stacks: [Int32], tables: Tables, grammar: ObjectIdentifier) {
        self.stacks = stacks
        self.grammar = grammar
        var hasher = Hasher()
        hasher.combine(stacks)
        hashCode = hasher.finalize()
        var canEnd = false, canContinue = false
        var remaining = Int.max
        var i = 0
        while i < stacks.count {
            let length = Int(stacks[i])
            var sum = 0, finished = true
            for k in i + 1..<i + 1 + length {
                let p = Int(stacks[k])
                sum += Int(tables.suffixMin[p])
                if !tables.nullable[p] { finished = false }
                if tables.consumes[p] { canContinue = true }
            }
            if finished { canEnd = true }
            remaining = min(remaining, sum)
            i += 1 + length
        }
        self.canEnd = canEnd
        mustEnd = canEnd && !canContinue
        remainingBytes = canEnd ? 0 : remaining
    }

    public static func == (a: ConstraintState, b: ConstraintState) -> Bool {
        a.hashCode == b.hashCode && a.grammar == b.grammar && a.stacks == b.stacks
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(hashCode) }
}

/// A grammar matched against a vocabulary, with a bounded cache of masks per state (thread-safe:
/// many sequences of many requests call it concurrently from different threads).
///
/// A mask is computed by walking the vocabulary's byte trie depth first from the state, advancing
/// the state's stacks one byte per trie level and pruning a subtree as soon as no stack survives:
/// only viable prefixes are visited. Masks are cached per state (CLOCK eviction, `cacheCapacity`
/// entries of vocabulary/8 bytes each); the walk itself runs outside the lock.
public final class TokenConstraint: Sendable {
    public let grammar: Grammar
    public let vocabulary: TokenVocabulary
    private let tables: Tables
    private let grammarID: ObjectIdentifier
    private let cache: Mutex<MaskCache>

    public init(grammar: Grammar, vocabulary: TokenVocabulary, cacheCapacity: Int = 4096) {
        self.grammar = grammar
        self.vocabulary = vocabulary
        tables = Tables(grammar.tables)
        grammarID = ObjectIdentifier(grammar.tables)
        cache = Mutex(MaskCache(capacity: max(0, cacheCapacity)))
    }

    public func start() -> ConstraintState {
        ConstraintState(stacks: [1, 0], tables: tables, grammar: grammarID)
    }

    /// Tokens whose bytes can all be consumed from `state` (end-of-text included only when
    /// state.canEnd; no token when mustEnd other than end-of-text). Cached per state.
    public func allowed(_ state: ConstraintState) -> TokenMask {
        precondition(state.grammar == grammarID, "a state of another grammar")
        if let mask = cache.withLock({ $0.lookup(state) }) { return mask }
        let mask = walk(state, closing: false)
        cache.withLock { $0.insert(state, mask) }
        return mask
    }

    /// Tokens that move along a shortest completion: single-token steps whose bytes reduce
    /// remainingBytes by exactly their length (used when the token budget is nearly spent so the
    /// document still closes in time). End-of-text when canEnd (and then nothing else). Never
    /// empty unless the state is dead or the vocabulary lacks the single bytes of the completion.
    public func closing(_ state: ConstraintState) -> TokenMask {
        precondition(state.grammar == grammarID, "a state of another grammar")
        return walk(state, closing: true)
    }

    /// Consumes a token's bytes; returns false (state unchanged) if not allowed. End-of-text:
    /// allowed iff canEnd, leaves state unchanged. Excluded and empty tokens are never allowed.
    public func advance(_ state: inout ConstraintState, token: Int32) -> Bool {
        if token == vocabulary.endOfText { return state.canEnd }
        guard token >= 0, Int(token) < vocabulary.count, vocabulary.usable[Int(token)] else { return false }
        return advance(&state, bytes: vocabulary.bytes(of: token))
    }

    /// Consumes raw bytes (used by tests and by the server's parsing of what was generated);
    /// returns false (state unchanged) if the grammar does not allow them.
    public func advance(_ state: inout ConstraintState, bytes: some Sequence<UInt8>) -> Bool {
        precondition(state.grammar == grammarID, "a state of another grammar")
        if state.isDead { return false }
        var iterator = bytes.makeIterator()
        guard let first = iterator.next() else { return true }
        if !canTake(state, first, tables) { return false }
        var s = Scratch(tables)
        s.load(state.stacks)
        var next: UInt8? = first
        while let b = next {
            next = iterator.next()
            let end = s.count
            s.beginLevel()
            for k in 0..<end { s.step(s.top[k], s.below[k], Int(b), end) }
            if s.count == end || s.overflow { return false }
            s.compact(from: end)
        }
        state = ConstraintState(stacks: s.canonical(from: 0), tables: tables, grammar: grammarID)
        return true
    }

    /// Whether some stack of the state can take byte b (no allocation: most tokens fail here).
    private func canTake(_ state: ConstraintState, _ b: UInt8, _ t: Tables) -> Bool {
        let stacks = state.stacks
        var i = 0
        while i < stacks.count {
            let length = Int(stacks[i])
            var k = i + length   // the top
            while k > i {
                let q = Int(stacks[k])
                let e = t.elems[q]
                if e >= 0 {
                    if (t.sets[Int(e) * 4 + Int(b >> 6)] >> UInt64(b & 63)) & 1 != 0 { return true }
                    break
                }
                if t.classEntry[Int(t.stepInfo[2 * q + 1]) + Int(t.classes[Int(t.stepInfo[2 * q]) + Int(b)])] != GrammarTables.none { return true }
                if !t.nullable[q] { break }
                k -= 1
            }
            i += 1 + length
        }
        return false
    }

    public var cacheStats: (hits: Int, misses: Int) {
        cache.withLock { ($0.hits, $0.misses) }
    }

    /// The trie walk: allowed tokens, or (closing) those along a shortest completion.
    private func walk(_ state: ConstraintState, closing: Bool) -> TokenMask {
        let v = vocabulary
        var words = [UInt64](repeating: 0, count: (v.count + 63) / 64)
        let eot = Int(v.endOfText)
        if state.canEnd, eot >= 0 { words[eot >> 6] |= 1 << UInt64(eot & 63) }
        if state.isDead || state.mustEnd || (closing && state.canEnd) { return TokenMask(words: words) }
        let target = state.remainingBytes

        var s = Scratch(tables)
        s.load(state.stacks)
        let levelStart = UnsafeMutablePointer<Int>.allocate(capacity: v.maxDepth + 2)
        defer { levelStart.deallocate() }
        levelStart[0] = 0
        levelStart[1] = s.count
        let nodeByte = v.nodeByte.pointer, nodeDepth = v.nodeDepth.pointer, nodeEnd = v.nodeEnd.pointer
        let tokenStart = v.nodeTokenStart.pointer, tokens = v.nodeTokens.pointer
        let nodeCount = v.nodeCount
        let w = UnsafeMutablePointer<UInt64>.allocate(capacity: words.count)
        defer { w.deallocate() }
        w.update(from: words, count: words.count)
        do {
            var j = 0
            while j < nodeCount {
                let d = Int(nodeDepth[j])
                let ps = levelStart[d - 1], pe = levelStart[d]
                s.count = pe
                s.overflow = false
                s.beginLevel()
                let b = Int(nodeByte[j])
                var k = ps
                while k < pe {
                    s.step(s.top[k], s.below[k], b, pe)
                    k &+= 1
                }
                if s.count == pe || s.overflow {
                    j = Int(nodeEnd[j])
                    continue
                }
                if closing {
                    var best = Int.max
                    for k in pe..<s.count { best = min(best, s.remaining(k)) }
                    if best != target - d {
                        j = Int(nodeEnd[j])
                        continue
                    }
                }
                levelStart[d + 1] = s.count
                var t = Int(tokenStart[j])
                let tEnd = Int(tokenStart[j + 1])
                while t < tEnd {
                    let id = Int(tokens[t])
                    w[id >> 6] |= 1 << UInt64(id & 63)
                    t &+= 1
                }
                j &+= 1
            }
        }
        return TokenMask(words: Array(UnsafeBufferPointer(start: w, count: words.count)))
    }
}

/// Masks by state, CLOCK eviction.
struct MaskCache {
    let capacity: Int
    private var index: [ConstraintState: Int] = [:]
    private var keys: [ConstraintState] = []
    private var masks: [TokenMask] = []
    private var referenced: [Bool] = []
    private var hand = 0
    private(set) var hits = 0, misses = 0

    init(capacity: Int) { self.capacity = capacity }

    mutating func lookup(_ state: ConstraintState) -> TokenMask? {
        if let i = index[state] {
            referenced[i] = true
            hits += 1
            return masks[i]
        }
        misses += 1
        return nil
    }

    mutating func insert(_ state: ConstraintState, _ mask: TokenMask) {
        guard capacity > 0, index[state] == nil else { return }
        if keys.count < capacity {
            index[state] = keys.count
            keys.append(state)
            masks.append(mask)
            referenced.append(false)
            return
        }
        while referenced[hand] {
            referenced[hand] = false
            hand = (hand + 1) % capacity
        }
        index[keys[hand]] = nil
        keys[hand] = state
        masks[hand] = mask
        index[state] = hand
        hand = (hand + 1) % capacity
    }
}
