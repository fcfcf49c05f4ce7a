/// A set of bytes: 256 bits in four words. The terminal of the grammar.
struct ByteSet: Hashable, Sendable {
    var w0: UInt64 = 0, w1: UInt64 = 0, w2: UInt64 = 0, w3: UInt64 = 0

    init() {}

    init(_ byte: UInt8) { insert(byte) }

    init(_ range: ClosedRange<UInt8>) { insert(range) }

    init(_ bytes: some Sequence<UInt8>) { for b in bytes { insert(b) } }

    init(ascii: String) { for b in ascii.utf8 { insert(b) } }

    static let all: ByteSet = ByteSet(0...255)

    var isEmpty: Bool { w0 | w1 | w2 | w3 == 0 }

    var count: Int { w0.nonzeroBitCount + w1.nonzeroBitCount + w2.nonzeroBitCount + w3.nonzeroBitCount }

    func word(_ i: Int) -> UInt64 {
        switch i { case 0: w0; case 1: w1; case 2: w2; default: w3 }
    }

    func contains(_ b: UInt8) -> Bool { word(Int(b >> 6)) >> UInt64(b & 63) & 1 != 0 }

    mutating func insert(_ b: UInt8) {
        let bit: UInt64 = 1 << UInt64(b & 63)
        switch b >> 6 { case 0: w0 |= bit; case 1: w1 |= bit; case 2: w2 |= bit; default: w3 |= bit }
    }

    mutating func insert(_ r: ClosedRange<UInt8>) { for b in r { insert(b) } }

    mutating func remove(_ b: UInt8) {
        let bit: UInt64 = ~(1 << UInt64(b & 63))
        switch b >> 6 { case 0: w0 &= bit; case 1: w1 &= bit; case 2: w2 &= bit; default: w3 &= bit }
    }

    func union(_ o: ByteSet) -> ByteSet {
        var s = self
        s.w0 |= o.w0; s.w1 |= o.w1; s.w2 |= o.w2; s.w3 |= o.w3
        return s
    }

    func subtracting(_ o: ByteSet) -> ByteSet {
        var s = self
        s.w0 &= ~o.w0; s.w1 &= ~o.w1; s.w2 &= ~o.w2; s.w3 &= ~o.w3
        return s
    }

    /// The bytes in the set, ascending.
    var bytes: [UInt8] { (0...255).compactMap { contains(UInt8($0)) ? UInt8($0) : nil } }
}
