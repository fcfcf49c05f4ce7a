import Kernels
import Testing

/// q8_0 / q4_0: the block format (Quantization.swift) and the kernels that read it.
@Suite struct QuantizationTests {
    static let types: [WeightType] = [.q8_0, .q4_0]
    static let pools: [ThreadPool?] = [nil, ThreadPool(threadCount: 1), ThreadPool(threadCount: 2)]

    static func qmax(_ type: WeightType) -> Float { type == .q8_0 ? 127 : 7 }

    /// Scale of block b as stored.
    static func scale(_ w: EncodedWeights, _ b: Int) -> Float {
        Float(Float16(bitPattern: UInt16(w.scales[2 * b]) | UInt16(w.scales[2 * b + 1]) << 8))
    }

    /// Blocks of very different sizes, a zero block, a block with a single non-zero weight, and
    /// one small enough that its f16 scale is subnormal.
    static func sampleWeights(blocks: Int, random: inout SeededRandom) -> [Float] {
        var values = [Float]()
        for b in 0..<blocks {
            let magnitude: Float = [0.05, 0.3, 1, 4, 100, 0.01][b % 6]
            var block = random.array(32).map { $0 * magnitude }
            if b == 3 { block = [Float](repeating: 0, count: 32) }
            if b == 4 { block = [Float](repeating: 0, count: 32); block[17] = -0.75 }
            if b == 5 { block = block.map { $0 * 1e-4 } }   // max|w| ~1e-6: subnormal scale
            values += block
        }
        return values
    }

    @Test(arguments: types)
    func roundTripErrorIsAtMostHalfAStep(type: WeightType) {
        var random = SeededRandom(seed: 3)
        let values = Self.sampleWeights(blocks: 24, random: &random)
        let w = EncodedWeights(values, type: type)
        let qmax = Self.qmax(type)
        for b in 0..<(values.count / 32) {
            let block = values[(32 * b)..<(32 * b + 32)]
            let s = Self.scale(w, b)
            let amax = block.map(abs).max()!
            #expect(s == Float(Float16(amax / qmax)), "block \(b): the scale is max|w| / \(qmax) rounded to f16")
            for i in block.indices {
                let error = abs(values[i] - w.decoded[i])
                // A normal f16 scale is within 2^-11 of max|w| / qmax, so no weight clamps and
                // the error is rounding's: at most half a step. A subnormal scale may be too
                // small, and the largest weights clamp to qmax steps.
                let bound = max(s / 2, abs(values[i]) - qmax * s)
                #expect(error <= bound, "block \(b) element \(i % 32): \(values[i]) -> \(w.decoded[i]), step \(s)")
                if Float16(amax / qmax).isNormal { #expect(error <= s / 2) }
            }
        }
        // The zero block: scale 0, code 0 (q4_0 stores q + 8: 0x88 for a pair of zeros).
        #expect(Self.scale(w, 3) == 0)
        #expect(w.bytes[type.rowBytes(3 * 32)..<type.rowBytes(4 * 32)].allSatisfy { $0 == (type == .q8_0 ? 0 : 0x88) })
        // The lone weight is exact: it sets the scale and is qmax steps of it.
        #expect(w.decoded[4 * 32 + 17] == Float(Float16(0.75 / qmax)) * -qmax)
    }

    @Test func codesLayoutAndRounding() {
        // Scale 1 exactly (max|w| = qmax); ties round to even.
        var q8 = [Float](repeating: 0, count: 32)
        q8[0] = 127; q8[1] = -127; q8[2] = 2.5; q8[3] = 3.5; q8[4] = -2.5; q8[5] = 0.49; q8[31] = -1.5
        let w8 = EncodedWeights(q8, type: .q8_0)
        #expect(Self.scale(w8, 0) == 1)
        #expect(w8.bytes.map { Int8(bitPattern: $0) }[0..<6] == [127, -127, 2, 4, -2, 0])
        #expect(Int8(bitPattern: w8.bytes[31]) == -2)
        #expect(w8.decoded == w8.bytes.map { Float(Int8(bitPattern: $0)) })

        // q4_0: byte j holds element j (low nibble) and element j + 16 (high), each as q + 8.
        var q4 = [Float](repeating: 0, count: 32)
        for j in 0..<15 { q4[j] = Float(j - 7) }          // -7 ... 7
        for j in 0..<16 { q4[16 + j] = Float(7 - j % 15) } // 7 ... -7, 7
        q4[15] = 0.5   // -> 0 (even)
        let w4 = EncodedWeights(q4, type: .q4_0)
        #expect(Self.scale(w4, 0) == 1)
        #expect(w4.bytes.count == 16)
        for j in 0..<16 {
            let low = Int(w4.bytes[j] & 0x0F) - 8, high = Int(w4.bytes[j] >> 4) - 8
            #expect(Float(low) == (j == 15 ? 0 : q4[j]), "element \(j)")
            #expect(Float(high) == q4[16 + j], "element \(16 + j)")
        }
        #expect(w4.decoded == q4.enumerated().map { $0.offset == 15 ? 0 : $0.element })
        // A normal f16 scale is within 2^-11 of max|w| / 7, so codes stay in -7...7; only a
        // subnormal one, rounded far down, clamps: then the most negative weight gets -8.
        let tiny = 7 * 1.4 * Float(Float16.leastNonzeroMagnitude)   // scale rounds to 1 ulp
        var sub = [Float](repeating: 0, count: 32)
        sub[0] = -tiny; sub[1] = tiny
        let ws = EncodedWeights(sub, type: .q4_0)
        #expect(Self.scale(ws, 0) == Float(Float16.leastNonzeroMagnitude))
        #expect(ws.bytes[0] & 0x0F == 0 && ws.bytes[1] & 0x0F == 15)   // -8 and 7, clamped
    }

    @Test func quantizeRefusesWhatItCannotStore() {
        for bad: Float in [.nan, .infinity, -.infinity] {
            var values = [Float](repeating: 0.5, count: 32); values[9] = bad
            for type in Self.types { #expect(!quantizeOK(values, type)) }
        }
        // A scale beyond f16's 65504.
        #expect(!quantizeOK([Float](repeating: 65504 * 127 * 1.01, count: 32), .q8_0))
        #expect(!quantizeOK([Float](repeating: 65504 * 7 * 1.01, count: 32), .q4_0))
        #expect(quantizeOK([Float](repeating: 65504 * 7 * 0.99, count: 32), .q4_0))
    }

    func quantizeOK(_ values: [Float], _ type: WeightType) -> Bool {
        var codes = [UInt8](repeating: 0, count: type.rowBytes(values.count))
        var scales = [UInt8](repeating: 0, count: values.count / 16)
        return quantize(values, count: values.count, as: type, codes: &codes, scales: &scales)
    }

    /// m around the matvec limit (4) and the micro-kernels (12 rows, 8 and 4 for the rest); K
    /// across a packing block (512) and beyond matvec's prefetch limit (4096 bytes a row); odd N;
    /// W large enough (>= 64 KiB) that matvec splits over two threads.
    static func shapes(_ type: WeightType) -> [(m: Int, k: Int, n: Int)] {
        var s: [(m: Int, k: Int, n: Int)] = []
        for m in [1, 2, 3, 4, 5, 12, 13, 40] {
            s.append((m, 64, 33))
            s.append((m, 544, 7))
        }
        s += [(1, 32, 1), (2, 96, 5), (4, 160, 97), (5, 32, 130), (17, 1056, 45)]
        s += [(1, type == .q8_0 ? 768 : 1536, 97), (3, type == .q8_0 ? 768 : 1536, 129)]   // split over threads
        s += [(1, type == .q8_0 ? 4128 : 8224, 5), (4, type == .q8_0 ? 4128 : 8224, 9)]    // no prefetch
        return s
    }

    @Test(arguments: types, [false, true])
    func matmulMatchesReferenceOnDequantizedWeights(type: WeightType, accumulate: Bool) {
        var random = SeededRandom(seed: 21)
        for (m, k, n) in Self.shapes(type) {
            let x = random.array(m * k)
            let w = EncodedWeights(random.array(n * k), type: type)
            let initial = random.array(m * n)
            let (expected, magnitude) = referenceMatmul(x: x, w: w.decoded, m: m, n: n, k: k, adding: accumulate ? initial : nil)
            for pool in Self.pools {
                var y = accumulate ? initial : [Float](repeating: .nan, count: m * n)
                w.withMatrix(n: n, k: k) { matmul(&y, x, $0, m: m, accumulate: accumulate, pool: pool) }
                let (error, at) = maxRelativeError(y, expected, scale: magnitude)
                #expect(error < 1e-5, "m=\(m) k=\(k) n=\(n) \(type) threads=\(pool?.threadCount ?? 0): rel error \(error) at \(at)")
                if m <= maxMatvecRows {
                    var z = accumulate ? initial : [Float](repeating: .nan, count: m * n)
                    w.withMatrix(n: n, k: k) { matvec(&z, x, $0, m: m, accumulate: accumulate, pool: pool) }
                    #expect(z == y, "matvec and matmul disagree, m=\(m) k=\(k) n=\(n)")
                }
            }
        }
    }

    @Test(arguments: types)
    func bitIdenticalToF32OnDequantizedWeights(type: WeightType) {
        // The scale multiplies the weights exactly, so the products and sums are the f32
        // kernels' on the dequantized matrix, in the same order (matvec for up to 4 rows, panels
        // packed per call beyond).
        var random = SeededRandom(seed: 9)
        for (m, k, n) in Self.shapes(type) {
            let x = random.array(m * k)
            let w = EncodedWeights(random.array(n * k), type: type)
            let f32 = EncodedWeights(w.decoded, type: .f32)
            for pool in [nil, ThreadPool(threadCount: 2)] {
                var yq = [Float](repeating: 0, count: m * n), yf = yq
                w.withMatrix(n: n, k: k) { matmul(&yq, x, $0, m: m, pool: pool) }
                f32.withMatrix(n: n, k: k) { matmul(&yf, x, $0, m: m, pool: pool) }
                #expect(yq == yf, "m=\(m) k=\(k) n=\(n) \(type)")
            }
        }
    }

    @Test(arguments: types)
    func rowsDecodeToTheDequantizedWeights(type: WeightType) {
        var random = SeededRandom(seed: 4)
        let (n, k) = (5, 96)
        let w = EncodedWeights(Self.sampleWeights(blocks: n * k / 32, random: &random), type: type)
        var row = [Float](repeating: .nan, count: k)
        for r in 0..<n {
            w.withMatrix(n: n, k: k) { $0.decodeRow(r, into: &row) }
            #expect(row == Array(w.decoded[(r * k)..<(r * k + k)]), "row \(r)")
        }
    }

    @Test(arguments: types)
    func quantizedMatricesAreNotPacked(type: WeightType) {
        // Their packed copy would be f32: 4-8x the bytes the model was quantized to save.
        var random = SeededRandom(seed: 6)
        let w = EncodedWeights(random.array(40 * 64), type: type)
        let packer = PackedWeights()
        w.withMatrix(n: 40, k: 64) { matrix in
            let packed = packer.pack(matrix)
            #expect(packed.packed == nil)
        }
        #expect(packer.bytes == 0)
    }
}
