import DLCMRuntime

/// A model state block as the prefix cache keeps it (`StateBlock` for the served model).
protocol PrefixPayload: AnyObject {
    /// Bytes it holds.
    var bytes: Int { get }
}

/// Prompt states kept across requests, as a chain of blocks: block k of a prompt holds what
/// reading its tokens `[kG, (k+1)G)` added to the state (`StateBlock`), keyed by its parent
/// block and its own tokens, so a block is found only after the very tokens that came before
/// it. G is the engine's prefill grid (`prefillChunk`): a prompt is always read in those cells,
/// so a resumed prompt goes through exactly the passes a cold read would, and the cache changes
/// no bit of any result. Only whole cells of prompts are kept: a prompt's last partial cell is
/// never reused (the reuse stops before a prompt's last token), and generated tokens are not
/// kept (they were read one per pass, a cold read of them as a prompt runs them in cells: the
/// same state up to float rounding, not bit for bit).
///
/// Each chain hangs from a scope (the request's salt and, unless shared, its API key): scopes
/// never see each other's blocks. Blocks are copied into a request's own caches when it resumes,
/// so no running request holds one, and any may go. Eviction is a segmented LRU over the blocks
/// without children: a block another request has resumed from is protected, and the least
/// recently used unprotected block goes first, so a flood of prompts seen once cannot push out a
/// prefix that is in use (a shared system prompt); protected blocks hold at most
/// `protectedShare` of the budget, the least recently used of them returning to the unprotected
/// ones beyond it. Engine thread only.
final class PrefixCache {
    /// One cached block.
    final class Entry {
        let id: Int
        let key: Key
        /// The root id of its scope.
        let root: Int
        let payload: any PrefixPayload
        /// Router probability and boundary flag of each of the block's tokens (a prompt's
        /// segmentation, reported with the prompt).
        let probs: [Float]
        let boundaries: [Bool]
        let bytes: Int
        var children = 0
        var lastUsed: UInt64 = 0
        /// A request other than the one that added it has resumed from it (see `reused`).
        var protected = false

        init(id: Int, key: Key, root: Int, payload: any PrefixPayload, probs: [Float], boundaries: [Bool]) {
            self.id = id; self.key = key; self.root = root; self.payload = payload; self.probs = probs; self.boundaries = boundaries
            // Payload, the key's tokens, the flags, and the entry with its two table slots.
            bytes = payload.bytes + 4 * key.tokens.count + 5 * probs.count + 256
        }
    }

    /// A block's identity: its parent (an entry id, or a scope's root id, negative) and its tokens.
    struct Key: Hashable {
        let parent: Int
        let tokens: [Int32]
    }

    /// Counters and gauges for `/metrics`.
    struct Statistics: Equatable {
        /// Prompt tokens of requests that looked in the cache.
        var queriedTokens: UInt64 = 0
        /// Of those, tokens resumed from the cache instead of read.
        var hitTokens: UInt64 = 0
        var evictions: UInt64 = 0
        var bytes = 0
        var entries = 0
        /// Of `bytes`, those of protected blocks.
        var protectedBytes = 0
    }

    /// The most of the budget protected blocks may hold.
    static let protectedShare = 0.8

    let capacityBytes: Int
    /// Tokens per block: the engine's prefill grid.
    let blockTokens: Int
    private(set) var statistics = Statistics()
    private var entries: [Key: Entry] = [:]
    private var byID: [Int: Entry] = [:]
    /// Root id of each scope with blocks, and how many blocks hang from it.
    private var scopes: [String: (root: Int, blocks: Int)] = [:]
    private var rootScope: [Int: String] = [:]
    private var nextID = 1
    private var nextRoot = -1
    private var clock: UInt64 = 0

    init(capacityBytes: Int, blockTokens: Int) {
        precondition(capacityBytes >= 0 && blockTokens >= 1)
        self.capacityBytes = capacityBytes
        self.blockTokens = blockTokens
    }

    var isEnabled: Bool { capacityBytes > 0 }

    /// The cached blocks that begin `prompt`, in order, as far as they reach within its first
    /// `limit` tokens (a request reuses at most all but its last prompt token). Marks them used.
    func match(scope: String, prompt: [Int32], limit: Int) -> [Entry] {
        guard let root = scopes[scope]?.root else { return [] }
        var chain: [Entry] = []
        var parent = root, at = 0
        clock += 1
        while at + blockTokens <= min(limit, prompt.count) {
            guard let e = entries[Key(parent: parent, tokens: Array(prompt[at..<(at + blockTokens)]))] else { break }
            e.lastUsed = clock
            chain.append(e)
            parent = e.id
            at += blockTokens
        }
        return chain
    }

    /// Whether block `id` is still kept.
    func contains(_ id: Int) -> Bool { byID[id] != nil }

    /// Counts a request's look-up: `prompt` tokens, `hit` of them resumed.
    func recordQuery(prompt: Int, hit: Int) {
        statistics.queriedTokens += UInt64(prompt)
        statistics.hitTokens += UInt64(hit)
    }

    /// Keeps the block after `parent` (nil: the scope's first block). Returns its entry id (the
    /// existing one when another request stored the same block first), or nil when it cannot be
    /// kept: its parent was evicted, or it alone is larger than the budget.
    @discardableResult
    func insert(scope: String, after parent: Int?, tokens: ArraySlice<Int32>, payload: any PrefixPayload,
                probs: [Float], boundaries: [Bool]) -> Int? {
        precondition(tokens.count == blockTokens && probs.count == blockTokens && boundaries.count == blockTokens)
        guard isEnabled else { return nil }
        let parentID: Int, root: Int
        if let parent {
            guard let p = byID[parent] else { return nil }
            parentID = parent
            root = p.root
        } else if let existing = scopes[scope]?.root {
            parentID = existing
            root = existing
        } else {
            parentID = nextRoot
            root = nextRoot
            nextRoot -= 1
            scopes[scope] = (root, 0)
            rootScope[root] = scope
        }
        let key = Key(parent: parentID, tokens: Array(tokens))
        clock += 1
        if let existing = entries[key] {
            existing.lastUsed = clock
            return existing.id
        }
        let entry = Entry(id: nextID, key: key, root: root, payload: payload, probs: probs, boundaries: boundaries)
        nextID += 1
        guard entry.bytes <= capacityBytes else {
            dropRootIfEmpty(root)
            return nil
        }
        while statistics.bytes + entry.bytes > capacityBytes {
            guard evictOne(sparing: parentID) else {
                dropRootIfEmpty(root)
                return nil
            }
        }
        entry.lastUsed = clock
        entries[key] = entry
        byID[entry.id] = entry
        if let p = byID[parentID] { p.children += 1 }
        scopes[scope]!.blocks += 1
        statistics.bytes += entry.bytes
        statistics.entries += 1
        return entry.id
    }

    /// Blocks a request resumed from (not the one that added them): they become protected.
    func reused(_ blocks: some Sequence<Entry>) {
        for e in blocks where !e.protected && byID[e.id] != nil {
            e.protected = true
            statistics.protectedBytes += e.bytes
        }
        // Beyond the protected share, the least recently used protected blocks go back.
        let limit = Int(Self.protectedShare * Double(capacityBytes))
        while statistics.protectedBytes > limit {
            guard let oldest = entries.values.filter(\.protected).min(by: { $0.lastUsed < $1.lastUsed }) else { break }
            oldest.protected = false
            statistics.protectedBytes -= oldest.bytes
        }
    }

    /// Evicts a block that no other block continues, other than `spared` (the parent a block is
    /// being added to): the least recently used unprotected one, else the least recently used.
    /// False when there is none.
    private func evictOne(sparing spared: Int) -> Bool {
        var victim: Entry?
        for e in entries.values where e.children == 0 && e.id != spared {
            guard let v = victim else { victim = e; continue }
            if (e.protected ? 1 : 0, e.lastUsed) < (v.protected ? 1 : 0, v.lastUsed) { victim = e }
        }
        guard let victim else { return false }
        if victim.protected { statistics.protectedBytes -= victim.bytes }
        entries[victim.key] = nil
        byID[victim.id] = nil
        statistics.bytes -= victim.bytes
        statistics.entries -= 1
        statistics.evictions += 1
        byID[victim.key.parent]?.children -= 1
        if let scope = rootScope[victim.root] { scopes[scope]!.blocks -= 1 }
        dropRootIfEmpty(victim.root)
        return true
    }

    /// Forgets a scope that holds no block (so scopes come and go with their salts).
    private func dropRootIfEmpty(_ root: Int) {
        guard root < 0, let scope = rootScope[root], scopes[scope]?.blocks == 0 else { return }
        scopes[scope] = nil
        rootScope[root] = nil
    }
}
