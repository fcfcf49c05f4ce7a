import Testing
@testable import DLCMRuntime

/// A windowed cache keeps only the rows its queries can still reach, at the right positions.
@Suite struct KVCacheWindowTests {
    /// Key row of position p: (p, -p) in every layer; values (p + 0.5, 1).
    func fill(_ cache: KVCache, positions: Range<Int>) {
        cache.reserve(positions: positions.upperBound)
        for p in positions {
            var k: [Float] = [Float(p), -Float(p)], v: [Float] = [Float(p) + 0.5, 1]
            for l in 0..<cache.layers { cache.store(layer: l, position: p, key: &k, value: &v) }
        }
        cache.advance(by: positions.count)
    }

    /// The key row the attention loop reads for position p.
    func key(_ cache: KVCache, layer: Int, position p: Int) -> Float {
        cache.keys(layer).assumingMemoryBound(to: Float.self)[(p - cache.base) * cache.kvDim]
    }

    @Test(arguments: [1, 2, 4, 7])
    func decodeKeepsTheWindowInLittleMemory(window: Int) {
        let cache = KVCache(layers: 2, kvDim: 2, element: .f32, window: window)
        for t in 0..<300 {
            fill(cache, positions: t..<(t + 1))
            #expect(cache.base <= t + 1 - window || cache.base == 0)
            for p in max(0, t + 1 - window)...t {
                #expect(key(cache, layer: 1, position: p) == Float(p))
            }
        }
        #expect(cache.capacity <= 16)
    }

    @Test func prefillChunksAfterDecodeSeeTheirWindow() {
        let cache = KVCache(layers: 1, kvDim: 2, element: .f32, window: 4)
        fill(cache, positions: 0..<50)       // one chunk longer than the initial room
        for t in 50..<90 { fill(cache, positions: t..<(t + 1)) }
        fill(cache, positions: 90..<130)     // a chunk after compactions
        for p in 87..<130 { #expect(key(cache, layer: 0, position: p) == Float(p)) }
        let copy = cache.copy()
        fill(copy, positions: 130..<131)
        for p in 127...130 { #expect(key(copy, layer: 0, position: p) == Float(p)) }
        #expect(cache.count == 130 && copy.count == 131)
    }

    @Test func unwindowedCacheKeepsEveryPosition() {
        let cache = KVCache(layers: 1, kvDim: 2, element: .f32)
        for t in 0..<100 { fill(cache, positions: t..<(t + 1)) }
        #expect(cache.base == 0)
        for p in 0..<100 { #expect(key(cache, layer: 0, position: p) == Float(p)) }
    }
}
