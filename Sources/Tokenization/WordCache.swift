import Synchronization

/// Bounded word -> ids cache shared by all threads; when full it stops admitting, like the library's.
/// An open-addressing table keyed by an FNV-1a hash of the word's bytes: `Dictionary` would run its
/// seeded hasher on every lookup, which cost about a fifth of encoding time.
final class WordCache: Sendable {
    private struct Table {
        var hashes: [UInt64]  // 0 = empty slot
        var words: [[UInt8]]
        var ids: [[Int32]]
        var count = 0
    }

    private let storage: Mutex<Table>
    private let capacity: Int
    private let mask: Int
    private let shift: UInt64

    init(capacity: Int) {
        self.capacity = capacity
        var size = 16
        while size < capacity * 2 { size *= 2 }
        mask = size - 1
        shift = UInt64(64 - size.trailingZeroBitCount)
        storage = Mutex(Table(hashes: [UInt64](repeating: 0, count: size), words: Array(repeating: [], count: size),
                              ids: Array(repeating: [], count: size)))
    }

    /// Never 0, which marks an empty slot.
    static func hash(_ word: ArraySlice<UInt8>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in word { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h | 1
    }

    @inline(__always)
    private func slot(_ hash: UInt64) -> Int {
        // FNV's low-entropy bits cluster badly under linear probing; a Fibonacci multiply spreads them.
        Int(truncatingIfNeeded: (hash &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// Appends the cached ids of `word` to `out`; false when the word is not cached.
    func append(_ word: ArraySlice<UInt8>, hash: UInt64, to out: inout [Int32]) -> Bool {
        storage.withLock { table in
            var i = slot(hash)
            while true {
                let h = table.hashes[i]
                if h == 0 { return false }
                if h == hash && table.words[i].elementsEqual(word) {
                    out.append(contentsOf: table.ids[i])
                    return true
                }
                i = (i + 1) & mask
            }
        }
    }

    /// Stores a copy of the word (never a slice that would keep a whole input text alive).
    func set(_ word: ArraySlice<UInt8>, hash: UInt64, _ ids: [Int32]) {
        guard capacity > 0 else { return }
        let owned = Array(word)
        storage.withLock { table in
            guard table.count < capacity else { return }
            var i = slot(hash)
            while table.hashes[i] != 0 {
                if table.hashes[i] == hash && table.words[i] == owned { return }
                i = (i + 1) & mask
            }
            table.hashes[i] = hash
            table.words[i] = owned
            table.ids[i] = ids
            table.count += 1
        }
    }
}
