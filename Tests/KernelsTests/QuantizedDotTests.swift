import Kernels
import Testing

/// The int8 products for q8_0 / q4_0 matvec and matmul (QuantizedDot.swift): X quantized per block of 32,
/// integer dot products, per-block scales.
@Suite struct QuantizedDotTests {
    static let types: [WeightType] = [.q8_0, .q4_0]

    /// X quantized as the kernel does (f32 throughout): per block d = max|x| / 127 and
    /// q = round_half_even(x * (127 / max|x|)).
    static func quantizeX(_ x: [Float]) -> (q: [Int], d: [Float]) {
        var q = [Int](), d = [Float]()
        for b in 0..<(x.count / 32) {
            let block = x[(32 * b)..<(32 * b + 32)]
            let amax = block.map(abs).max()!
            let inv: Float = amax > 0 ? 127 / amax : 0
            d.append(amax / 127)
            q += block.map { Int(min(max(($0 * inv).rounded(.toNearestOrEven), -127), 127)) }
        }
        return (q, d)
    }

    /// Y = X·Wᵀ as the int8 kernels define it, in double: per block the exact integer dot of the
    /// codes, scaled by d_w * d_x. Also Σ|x·w| per output (of the quantized values), for a
    /// relative tolerance.
    static func reference(x: [Float], w: EncodedWeights, m: Int, n: Int, k: Int) -> (y: [Double], magnitude: [Double]) {
        var y = [Double](repeating: 0, count: m * n), magnitude = y
        let blocks = k / 32
        for i in 0..<m {
            let (qx, dx) = quantizeX(Array(x[(i * k)..<(i * k + k)]))
            for j in 0..<n {
                for b in 0..<blocks {
                    let dw = w.blockScale(row: j, block: b, cols: k)
                    var dot = 0, absDot = 0
                    for e in 0..<32 {
                        let p = w.code(row: j, col: 32 * b + e, cols: k) * qx[32 * b + e]
                        dot += p
                        absDot += abs(p)
                    }
                    y[i * n + j] += Double(dw) * Double(dx[b]) * Double(dot)
                    magnitude[i * n + j] += Double(dw) * Double(dx[b]) * Double(absDot) + 1e-30
                }
            }
        }
        return (y, magnitude)
    }

    /// Widths that are whole pairs of blocks: one pair, a partial chunk of scales (12 blocks),
    /// two chunks (32), rows past the prefetch limit (130 blocks); odd N; W large enough to split
    /// over two threads.
    static let shapes: [(m: Int, k: Int, n: Int)] = [
        (1, 64, 33), (2, 64, 7), (3, 384, 33), (4, 384, 5), (1, 1024, 9), (4, 1024, 31),
        (1, 4160, 5), (4, 4160, 6), (1, 1536, 130), (3, 1536, 97),
    ]

    /// More rows than matvec takes (through `matmul`): W's groups are reused across chunks of 4
    /// rows of X, including a partial last chunk, up to `int8MaxRows`.
    static let manyRowShapes: [(m: Int, k: Int, n: Int)] = [
        (5, 64, 9), (8, 384, 33), (13, 1024, 31), (16, 4160, 6), (21, 1536, 97), (int8MaxRows, 128, 9),
    ]

    @Test(arguments: types, [false, true])
    func int8ProductsComputeTheIntegerProducts(type: WeightType, accumulate: Bool) {
        var random = SeededRandom(seed: 33)
        // matvec for 1-4 rows, matmul beyond.
        func multiply(_ y: inout [Float], _ x: [Float], _ w: WeightMatrix, m: Int, pool: ThreadPool?) {
            if m <= maxMatvecRows {
                matvec(&y, x, w, m: m, accumulate: accumulate, pool: pool)
            } else {
                matmul(&y, x, w, m: m, accumulate: accumulate, pool: pool)
            }
        }
        for (m, k, n) in Self.shapes + Self.manyRowShapes {
            var x = random.array(m * k)
            x[5] = 0; x[7] *= 40                                  // a zero and an outlier in block 0
            for i in 0..<32 { x[32 + i] = 0 }                      // an all-zero block of X
            let w = EncodedWeights(random.array(n * k), type: type)
            let initial = random.array(m * n)
            var (expected, magnitude) = Self.reference(x: x, w: w, m: m, n: n, k: k)
            if accumulate { for i in expected.indices { expected[i] += Double(initial[i]); magnitude[i] += abs(Double(initial[i])) } }
            for pool in [nil, ThreadPool(threadCount: 2)] {
                var y = accumulate ? initial : [Float](repeating: .nan, count: m * n)
                w.withMatrix(n: n, k: k, products: .int8) { multiply(&y, x, $0, m: m, pool: pool) }
                if QuantizedProducts.int8Available {
                    let (error, at) = maxRelativeError(y, expected, scale: magnitude)
                    #expect(error < 1e-5, "m=\(m) k=\(k) n=\(n) \(type): rel error \(error) at \(at)")
                } else {
                    // Without the kernels `.int8` falls back to the exact products.
                    var z = accumulate ? initial : [Float](repeating: .nan, count: m * n)
                    w.withMatrix(n: n, k: k) { multiply(&z, x, $0, m: m, pool: pool) }
                    #expect(y == z)
                }
            }
        }
    }

    @Test(arguments: types)
    func int8ProductsStayCloseToTheExactOnes(type: WeightType) {
        // X's rounding is at most half a step of 1/127 of its block's largest element, so the
        // difference from the exact products is a small fraction of Σ|x·w|.
        var random = SeededRandom(seed: 34)
        for (m, k, n) in Self.shapes {
            let x = random.array(m * k)
            let w = EncodedWeights(random.array(n * k), type: type)
            var a = [Float](repeating: 0, count: m * n), b = a
            w.withMatrix(n: n, k: k, products: .int8) { matvec(&a, x, $0, m: m) }
            w.withMatrix(n: n, k: k, products: .exact) { matvec(&b, x, $0, m: m) }
            let (_, magnitude) = referenceMatmul(x: x, w: w.decoded, m: m, n: n, k: k)
            let (error, at) = maxRelativeError(a, b.map(Double.init), scale: magnitude)
            #expect(error < 4e-3, "m=\(m) k=\(k) n=\(n) \(type): rel error \(error) at \(at)")
        }
    }

    @Test(arguments: types)
    func aRowsInt8ResultDoesNotDependOnTheOtherRows(type: WeightType) {
        // A sequence decoded alone (1 row), in a small batch (3) or a large one (13), or through
        // SharedMatmul, gets the same bits: only then are batched logits those of one stream.
        var random = SeededRandom(seed: 37)
        let (m, k, n) = (13, 512, 70)
        let x = random.array(m * k)
        let w = EncodedWeights(random.array(n * k), type: type)
        var all = [Float](repeating: .nan, count: m * n), shared = all
        w.withMatrix(n: n, k: k, products: .int8) { matmul(&all, x, $0, m: m, pool: ThreadPool(threadCount: 2)) }
        w.withMatrix(n: n, k: k, products: .int8) { SharedMatmul().run(&shared, x, $0, m: m) }
        #expect(shared == all)
        for first in [0, 4, 10] {
            let rows = first == 10 ? 3 : 1
            var part = [Float](repeating: .nan, count: rows * n)
            let xs = Array(x[(first * k)..<((first + rows) * k)])
            w.withMatrix(n: n, k: k, products: .int8) { matmul(&part, xs, $0, m: rows) }
            #expect(part == Array(all[(first * n)..<((first + rows) * n)]), "rows \(first)..<\(first + rows)")
        }
    }

    @Test(arguments: types)
    func matmulsOfMoreRowsTakeTheExactProducts(type: WeightType) {
        // Past int8MaxRows the dequantizing matmul is faster, and it is what `.int8` then runs.
        var random = SeededRandom(seed: 38)
        let (m, k, n) = (int8MaxRows + 1, 128, 40)
        let x = random.array(m * k)
        let w = EncodedWeights(random.array(n * k), type: type)
        var a = [Float](repeating: 0, count: m * n), b = a
        w.withMatrix(n: n, k: k, products: .int8) { matmul(&a, x, $0, m: m) }
        w.withMatrix(n: n, k: k, products: .exact) { matmul(&b, x, $0, m: m) }
        #expect(a == b)
    }

    @Test(arguments: types)
    func widthsThatAreNotWholePairsStayExact(type: WeightType) {
        // 3 blocks: the int8 kernels take pairs of blocks, so matvec keeps the exact products.
        var random = SeededRandom(seed: 35)
        let (m, k, n) = (2, 96, 11)
        let x = random.array(m * k)
        let w = EncodedWeights(random.array(n * k), type: type)
        var a = [Float](repeating: 0, count: m * n), b = a
        w.withMatrix(n: n, k: k, products: .int8) { matvec(&a, x, $0, m: m) }
        w.withMatrix(n: n, k: k, products: .exact) { matvec(&b, x, $0, m: m) }
        #expect(a == b)
    }
}

extension EncodedWeights {
    /// Scale of block `block` of row `row` of an (n, cols) quantized matrix.
    func blockScale(row: Int, block: Int, cols: Int) -> Float {
        let i = 2 * (row * cols / quantBlock + block)
        return Float(Float16(bitPattern: UInt16(scales[i]) | UInt16(scales[i + 1]) << 8))
    }

    /// The signed code of element (row, col) of an (n, cols) quantized matrix.
    func code(row: Int, col: Int, cols: Int) -> Int {
        if type == .q8_0 { return Int(Int8(bitPattern: bytes[row * cols + col])) }
        let inBlock = col % 32
        let byte = bytes[row * cols / 2 + col / 32 * 16 + inBlock % 16]
        return Int(inBlock < 16 ? byte & 0x0F : byte >> 4) - 8
    }
}
