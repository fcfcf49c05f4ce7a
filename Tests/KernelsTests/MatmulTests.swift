import Kernels
import Testing

@Suite struct MatmulTests {
    static let pools = [ThreadPool(threadCount: 1), ThreadPool(threadCount: 2)]

    /// Odd shapes: K not a multiple of 16 or of the packing depth (512), N not a multiple of the
    /// 32-column panel, M around the 4-row matvec limit and the 12-row micro-kernel.
    static let shapes: [(m: Int, k: Int, n: Int)] = [
        (1, 1, 1), (1, 17, 5), (2, 33, 7), (3, 100, 9), (4, 259, 70), (1, 1536, 64),
        (5, 15, 33), (12, 16, 32), (13, 31, 31), (17, 129, 65), (17, 300, 97), (40, 48, 130),
        (17, 1100, 45),  // crosses two packing blocks of K
        (8, 40, 64), (16, 64, 33), (20, 23, 40), (9, 600, 35),  // the 8- and 4-row kernels
    ]

    @Test(arguments: [WeightType.f32, .bf16, .f16], [false, true])
    func matchesReference(type: WeightType, accumulate: Bool) {
        checkAgainstReference(type: type, accumulate: accumulate, prepack: false)
    }

    @Test(arguments: [WeightType.f32, .bf16, .f16], [false, true])
    func prepackedMatchesReference(type: WeightType, accumulate: Bool) {
        checkAgainstReference(type: type, accumulate: accumulate, prepack: true)
    }

    func checkAgainstReference(type: WeightType, accumulate: Bool, prepack: Bool) {
        var random = SeededRandom(seed: 42)
        for shape in Self.shapes {
            let (m, k, n) = shape
            let x = random.array(m * k)
            let weights = EncodedWeights(random.array(n * k), type: type)
            let initial = random.array(m * n)
            let (expected, magnitude) = referenceMatmul(x: x, w: weights.decoded, m: m, n: n, k: k, adding: accumulate ? initial : nil)
            for pool in Self.pools {
                var y = accumulate ? initial : [Float](repeating: .nan, count: m * n)
                weights.bytes.withUnsafeBytes { raw in
                    let w = WeightMatrix(base: raw.baseAddress!, type: type, rows: n, cols: k)
                    let packer = PackedWeights()   // owns the packed copy: alive until matmul is done
                    withExtendedLifetime(packer) {
                        matmul(&y, x, prepack ? packer.pack(w) : w, m: m, accumulate: accumulate, pool: pool)
                    }
                }
                let (error, at) = maxRelativeError(y, expected, scale: magnitude)
                #expect(error < 1e-5, "m=\(m) k=\(k) n=\(n) \(type) threads=\(pool.threadCount): rel error \(error) at \(at)")
            }
        }
    }

    @Test func prepackedIsBitIdenticalToPackingPerCall() {
        // Same kernels, same summation order: packing at load changes speed, never results.
        // (Except for 3-4 rows, which take the packed kernel only when W was packed at load and
        // matvec otherwise: `prepackedMatchesReference` holds both to the reference, and a
        // matrix that asks for matvec up to 4 rows gets it, packed or not.)
        var random = SeededRandom(seed: 11)
        for (m, k, n) in Self.shapes where !(packedMinRows...maxMatvecRows).contains(m) {
            let (perCall, packed) = Self.perCallAndPacked(m: m, k: k, n: n, random: &random)
            #expect(perCall == packed, "m=\(m) k=\(k) n=\(n)")
        }
        for (m, k, n) in Self.shapes where m <= maxMatvecRows {
            let (perCall, packed) = Self.perCallAndPacked(m: m, k: k, n: n, random: &random, matvecMaxRows: maxMatvecRows)
            #expect(perCall == packed, "m=\(m) k=\(k) n=\(n) with matvecMaxRows = \(maxMatvecRows)")
        }
    }

    /// Y of a random bf16 matrix, packed per call and packed at load (with `matvecMaxRows` set).
    static func perCallAndPacked(m: Int, k: Int, n: Int, random: inout SeededRandom,
                                 matvecMaxRows: Int? = nil) -> (perCall: [Float], packed: [Float]) {
        let x = random.array(m * k)
        let weights = EncodedWeights(random.array(n * k), type: .bf16)
        var perCall = [Float](repeating: 0, count: m * n), packed = perCall
        weights.bytes.withUnsafeBytes { raw in
            let w = WeightMatrix(base: raw.baseAddress!, type: .bf16, rows: n, cols: k)
            let packer = PackedWeights()
            var prepacked = packer.pack(w)
            if let matvecMaxRows { prepacked.matvecMaxRows = matvecMaxRows }
            matmul(&perCall, x, w, m: m)
            matmul(&packed, x, prepacked, m: m)
            // bf16 is packed as bf16 pairs: 2 bytes an element, padded to whole 32-column panels.
            #expect(packer.bytes == ((n + 31) / 32) * 32 * k * 2)
            if case .bf16Pairs = prepacked.packed {} else { Issue.record("bf16 weights not packed as bf16 pairs") }
        }
        return (perCall, packed)
    }

    @Test(arguments: [WeightType.f32, .f16])
    func otherTypesPackAsF32(type: WeightType) {
        var random = SeededRandom(seed: 5)
        let (k, n) = (40, 33)
        let weights = EncodedWeights(random.array(n * k), type: type)
        weights.bytes.withUnsafeBytes { raw in
            let packer = PackedWeights()
            let packed = packer.pack(WeightMatrix(base: raw.baseAddress!, type: type, rows: n, cols: k))
            if case .f32 = packed.packed {} else { Issue.record("\(type) weights not packed as f32") }
            #expect(packer.bytes == 64 * k * 4)
        }
    }

    @Test func bf16PairPanelsHoldTheWeightsExactly() {
        // The bf16-pair layout widened back must give every weight exactly (zero past N), so
        // the packed kernel reads what matvec and per-call packing read.
        var random = SeededRandom(seed: 8)
        let (k, n) = (19, 45)
        let weights = EncodedWeights(random.array(n * k), type: .bf16)
        // Y = I · Wᵀ reads W back column by column: Y[r, c] = W[c, r].
        var identity = [Float](repeating: 0, count: k * k)
        for i in 0..<k { identity[i * k + i] = 1 }
        var y = [Float](repeating: .nan, count: k * n)
        weights.bytes.withUnsafeBytes { raw in
            let packer = PackedWeights()
            let w = packer.pack(WeightMatrix(base: raw.baseAddress!, type: .bf16, rows: n, cols: k))
            matmul(&y, identity, w, m: k)
            withExtendedLifetime(packer) {}
        }
        for r in 0..<k {
            for c in 0..<n { #expect(y[r * n + c] == weights.decoded[c * k + r], "W[\(c), \(r)]") }
        }
    }

    @Test func unalignedWeights() {
        // Weights from a file need not be aligned: offset the bf16 matrix by 2 bytes.
        var random = SeededRandom(seed: 7)
        let (m, k, n) = (13, 45, 37)
        let x = random.array(m * k)
        let weights = EncodedWeights(random.array(n * k), type: .bf16)
        let (expected, magnitude) = referenceMatmul(x: x, w: weights.decoded, m: m, n: n, k: k)
        let shifted = [0, 0] + weights.bytes
        var y = [Float](repeating: 0, count: m * n)
        shifted.withUnsafeBytes { raw in
            matmul(&y, x, WeightMatrix(base: raw.baseAddress! + 2, type: .bf16, rows: n, cols: k), m: m)
        }
        #expect(maxRelativeError(y, expected, scale: magnitude).0 < 1e-5)
    }

    @Test func emptyDepthGivesZeros() {
        var y = [Float](repeating: 5, count: 6 * 3)
        let x = [Float](repeating: 1, count: 1)
        x.withUnsafeBufferPointer { xp in
            matmul(&y, xp.baseAddress!, WeightMatrix(f32: xp.baseAddress!, rows: 3, cols: 0), m: 6)
        }
        #expect(y.allSatisfy { $0 == 0 })
    }

    @Test func largeMatvecUsesThreads() {
        // Big enough (> 256 KiB of weights) that matvec splits over the pool.
        var random = SeededRandom(seed: 9)
        let (m, k, n) = (3, 512, 301)
        let x = random.array(m * k)
        let weights = EncodedWeights(random.array(n * k), type: .f32)
        let (expected, magnitude) = referenceMatmul(x: x, w: weights.decoded, m: m, n: n, k: k)
        var y = [Float](repeating: 0, count: m * n)
        weights.decoded.withUnsafeBufferPointer { w in
            matvec(&y, x, WeightMatrix(f32: w.baseAddress!, rows: n, cols: k), m: m, pool: Self.pools[1])
        }
        #expect(maxRelativeError(y, expected, scale: magnitude).0 < 1e-5)
    }

    @Test(arguments: [WeightType.f32, .bf16, .f16])
    func convertsToFloat(type: WeightType) {
        var random = SeededRandom(seed: 3)
        let weights = EncodedWeights(random.array(37), type: type)
        var out = [Float](repeating: 0, count: 37)
        weights.bytes.withUnsafeBytes { raw in convertToFloat(&out, raw.baseAddress!, type: type, count: 37) }
        #expect(out == weights.decoded)
    }
}
