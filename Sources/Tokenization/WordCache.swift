import Synchronization

/// A cached word: its bytes with an FNV-1a hash computed once, so that `Dictionary` hashes one
/// word instead of feeding every byte through its hasher.
struct WordKey: Hashable {
    let bytes: ArraySlice<UInt8>
    let hash: UInt64

    init(_ bytes: ArraySlice<UInt8>) {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        self.bytes = bytes
        hash = h
    }

    init(bytes: ArraySlice<UInt8>, hash: UInt64) {
        self.bytes = bytes
        self.hash = hash
    }

    func hash(into hasher: inout Hasher) { hasher.combine(hash) }

    static func == (a: WordKey, b: WordKey) -> Bool { a.hash == b.hash && a.bytes == b.bytes }
}

/// Bounded word -> ids cache shared by all threads; when full it stops admitting, like the library's.
final class WordCache: Sendable {
    private let storage: Mutex<[WordKey: [Int32]]>
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        storage = Mutex([:])
    }

    func get(_ word: WordKey) -> [Int32]? {
        storage.withLock { $0[word] }
    }

    /// Stores a copy of the key's bytes, so the cache never keeps a whole input text alive.
    func set(_ word: WordKey, _ ids: [Int32]) {
        let owned = WordKey(bytes: ArraySlice(Array(word.bytes)), hash: word.hash)
        storage.withLock { map in
            if map.count < capacity { map[owned] = ids }
        }
    }
}
