import Locking
import StrictJSON
import StructuredOutput
import Tokenization

/// The model's vocabulary as grammars see it (token bytes, built once) and the grammars compiled
/// for requests, kept by what they were compiled from: a client that sends the same schema with
/// every request compiles it once, and its requests share one cache of token masks.
public final class OutputConstraints: Sendable {
    public let vocabulary: TokenVocabulary
    /// Compiled constraints, most recently used last (at most `capacity`), and the mask-cache
    /// counts of those already evicted (so the totals only grow).
    private struct Store {
        var list: [(key: String, constraint: TokenConstraint)] = []
        var evictedHits = 0
        var evictedMisses = 0
    }
    private let compiled = Locked(Store())
    public let capacity: Int

    /// Masks each compiled grammar may cache: the mask budget shared out, at least 64.
    public let masksPerGrammar: Int

    /// - Parameters:
    ///   - vocabularySize: the model's logits width (ids the tokenizer does not define get no bytes).
    ///   - capacity: distinct grammars kept compiled (each holds its own mask cache).
    ///   - maskBudgetBytes: memory all grammars' mask caches may hold together when full (a mask
    ///     is a bit per vocabulary entry: 1 KiB for 8k tokens, 6 KiB for 50k).
    public init(tokenizer: Tokenizer, vocabularySize: Int, endOfText: Int32, capacity: Int = 64,
                maskBudgetBytes: Int = 64 << 20) {
        var bytes = [[UInt8]](repeating: [], count: vocabularySize)
        var excluded = Set<Int32>()
        for id in 0..<vocabularySize {
            let t = Int32(id)
            if id < tokenizer.vocabSize { bytes[id] = tokenizer.bytes(of: t) }
            // Special tokens are control, not text; a token with no bytes would let a grammar
            // stand still forever. Neither is ever allowed inside a constrained output.
            if t != endOfText && (bytes[id].isEmpty || tokenizer.isSpecial(t)) { excluded.insert(t) }
        }
        vocabulary = TokenVocabulary(tokenBytes: bytes, endOfText: endOfText, excluded: excluded)
        self.capacity = capacity
        let maskBytes = (vocabularySize + 63) / 64 * 8
        masksPerGrammar = max(64, maskBudgetBytes / max(1, capacity * maskBytes))
    }

    /// The constraint compiled from `key`'s grammar, compiling it with `make` the first time.
    /// `key` must name the grammar exactly (the request's schema in canonical JSON text and the mode).
    public func constraint(key: String, make: () throws(SchemaError) -> Grammar) throws(SchemaError) -> TokenConstraint {
        if let hit = compiled.withLock({ store -> TokenConstraint? in
            guard let i = store.list.firstIndex(where: { $0.key == key }) else { return nil }
            let entry = store.list.remove(at: i)
            store.list.append(entry)
            return entry.constraint
        }) {
            return hit
        }
        // Compiled outside the lock: two requests racing on a new schema both compile it, and the
        // second's copy replaces the first's.
        let constraint = TokenConstraint(grammar: try make(), vocabulary: vocabulary, cacheCapacity: masksPerGrammar)
        compiled.withLock { store in
            store.list.removeAll { $0.key == key }
            store.list.append((key, constraint))
            while store.list.count > capacity {
                let stats = store.list.removeFirst().constraint.cacheStats
                store.evictedHits += stats.hits
                store.evictedMisses += stats.misses
            }
        }
        return constraint
    }

    public var compiledCount: Int { compiled.withLock { $0.list.count } }

    /// Grammars held, and token masks served from the caches and computed, over every grammar
    /// compiled so far (for /metrics).
    public var statistics: (grammars: Int, maskHits: Int, maskMisses: Int) {
        compiled.withLock { store in
            var hits = store.evictedHits, misses = store.evictedMisses
            for entry in store.list {
                let s = entry.constraint.cacheStats
                hits += s.hits
                misses += s.misses
            }
            return (store.list.count, hits, misses)
        }
    }
}
