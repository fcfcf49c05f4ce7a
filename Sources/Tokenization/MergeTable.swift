/// Pair-of-ids -> merge lookup as an open-addressing hash table with a multiplicative hash: the
/// hottest lookup of encoding, several times faster than `Dictionary` with its seeded SipHash.
struct MergeTable: Sendable {
    struct Merge: Sendable {
        let rank: Int32
        let id: Int32
    }

    private static let empty = UInt64.max  // never a key: ids are non-negative
    private var keys: [UInt64]
    private var values: [Merge]
    private let shift: UInt64
    private(set) var count = 0

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size *= 2 }
        keys = [UInt64](repeating: Self.empty, count: size)
        values = [Merge](repeating: Merge(rank: 0, id: 0), count: size)
        shift = UInt64(64 - size.trailingZeroBitCount)
    }

    @inline(__always)
    static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// Inserts or replaces (a repeated pair keeps its last rank, as the library's map does).
    mutating func set(_ left: Int32, _ right: Int32, _ merge: Merge) {
        let key = Self.key(left, right)
        let mask = keys.count - 1
        var i = slot(key)
        while keys[i] != Self.empty && keys[i] != key { i = (i + 1) & mask }
        if keys[i] == Self.empty { count += 1 }
        keys[i] = key
        values[i] = merge
        precondition(count * 2 <= keys.count, "MergeTable sized too small")
    }

    @inline(__always)
    func get(_ left: Int32, _ right: Int32) -> Merge? {
        let key = Self.key(left, right)
        let mask = keys.count - 1
        var i = slot(key)
        while true {
            let k = keys[i]
            if k == key { return values[i] }
            if k == Self.empty { return nil }
            i = (i + 1) & mask
        }
    }
}
