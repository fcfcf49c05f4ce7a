import Kernels
import Testing

/// Decode-time attention halves against plain double-precision loops, for the register-resident
/// widths (16-64) and a width that takes the generic path.
@Suite struct AttentionOpsTests {
    @Test(arguments: [16, 32, 48, 64, 40, 5])
    func scoresAndValuesMatchReference(headDim: Int) {
        var random = SeededRandom(seed: UInt64(headDim))
        let n = 37, stride = headDim * 3   // the head sits inside wider cache rows
        let q = random.array(headDim), keys = random.array(n * stride), values = random.array(n * stride)
        var scores = [Float](repeating: .nan, count: n)
        attentionScores(&scores, q: q, keys: keys, stride: stride, n: n, headDim: headDim, scale: 0.25)
        for t in 0..<n {
            let e = 0.25 * (0..<headDim).reduce(0.0) { $0 + Double(q[$1]) * Double(keys[t * stride + $1]) }
            #expect(abs(Double(scores[t]) - e) < 1e-5, "t \(t)")
        }
        let weights = random.array(n)
        var out = [Float](repeating: .nan, count: headDim)
        attentionValues(&out, weights: weights, values: values, stride: stride, n: n, headDim: headDim)
        for i in 0..<headDim {
            let e = (0..<n).reduce(0.0) { $0 + Double(weights[$1]) * Double(values[$1 * stride + i]) }
            #expect(abs(Double(out[i]) - e) < 1e-5, "element \(i)")
        }
        // No positions: zero scores written, a zero output.
        attentionValues(&out, weights: weights, values: values, stride: stride, n: 0, headDim: headDim)
        #expect(out.allSatisfy { $0 == 0 })
    }

    @Test(arguments: [16, 32, 48, 64, 40])
    func pairsMatchTwoSingleHeads(headDim: Int) {
        var random = SeededRandom(seed: 100 + UInt64(headDim))
        let n = 29, stride = headDim * 2
        let q = random.array(2 * headDim), keys = random.array(n * stride), values = random.array(n * stride)
        let w0 = random.array(n), w1 = random.array(n)
        var single = [Float](repeating: 0, count: 2 * n), pair = [Float](repeating: .nan, count: 2 * n)
        q.withUnsafeBufferPointer { qp in
            single.withUnsafeMutableBufferPointer { s in
                attentionScores(s.baseAddress!, q: qp.baseAddress!, keys: keys, stride: stride, n: n, headDim: headDim, scale: 0.5)
                attentionScores(s.baseAddress! + n, q: qp.baseAddress! + headDim, keys: keys, stride: stride, n: n, headDim: headDim, scale: 0.5)
            }
            pair.withUnsafeMutableBufferPointer { s in
                attentionScorePairs(s.baseAddress!, s.baseAddress! + n, q0: qp.baseAddress!, q1: qp.baseAddress! + headDim,
                                    keys: keys, stride: stride, n: n, headDim: headDim, scale: 0.5)
            }
        }
        #expect(single == pair)   // same operations in the same order per head
        var a = [Float](repeating: 0, count: headDim), b = a
        var p0 = [Float](repeating: .nan, count: headDim), p1 = p0
        attentionValues(&a, weights: w0, values: values, stride: stride, n: n, headDim: headDim)
        attentionValues(&b, weights: w1, values: values, stride: stride, n: n, headDim: headDim)
        attentionValuePairs(&p0, &p1, weights: w0, w1, values: values, stride: stride, n: n, headDim: headDim)
        #expect(a == p0 && b == p1)
    }

    /// The bf16 / f16 cache variants compute exactly what the f32 kernels compute on the widened
    /// rows (the same operations in the same order), for every width, single heads and pairs.
    @Test(arguments: [CacheElement.bf16, .f16], [16, 32, 48, 64, 40])
    func sixteenBitCachesMatchF32OnTheirValues(element: CacheElement, headDim: Int) {
        var random = SeededRandom(seed: 200 + UInt64(headDim))
        let n = 23, stride = headDim * 2
        let q = random.array(2 * headDim), w0 = random.array(n), w1 = random.array(n)
        let keys32 = random.array(n * stride), values32 = random.array(n * stride)
        // Rounded to the element type and widened back: the f32 kernels' input.
        var keys16 = [UInt16](repeating: 0, count: n * stride), values16 = keys16
        var keys = [Float](repeating: 0, count: n * stride), values = keys
        storeCacheRow(&keys16, keys32, element: element, count: n * stride)
        storeCacheRow(&values16, values32, element: element, count: n * stride)
        loadCacheRow(&keys, keys16, element: element, count: n * stride)
        loadCacheRow(&values, values16, element: element, count: n * stride)
        let bound: Float = element == .bf16 ? 1 / 256 : 1 / 2048
        #expect(zip(keys, keys32).allSatisfy { abs($0 - $1) <= bound * abs($1) }, "rounding stays within half a step")
        var a = [Float](repeating: .nan, count: 2 * n), b = a
        var pa = [Float](repeating: .nan, count: 2 * headDim), pb = pa
        q.withUnsafeBufferPointer { qp in
            a.withUnsafeMutableBufferPointer { s in
                attentionScorePairs(s.baseAddress!, s.baseAddress! + n, q0: qp.baseAddress!, q1: qp.baseAddress! + headDim,
                                    keys: keys, stride: stride, n: n, headDim: headDim, scale: 0.5)
            }
            b.withUnsafeMutableBufferPointer { s in
                attentionScorePairs(s.baseAddress!, s.baseAddress! + n, q0: qp.baseAddress!, q1: qp.baseAddress! + headDim,
                                    keys: keys16, element: element, stride: stride, n: n, headDim: headDim, scale: 0.5)
            }
        }
        #expect(a == b)
        var single = [Float](repeating: .nan, count: n)
        attentionScores(&single, q: q, keys: keys16, element: element, stride: stride, n: n, headDim: headDim, scale: 0.5)
        #expect(single == Array(a[0..<n]))
        pa.withUnsafeMutableBufferPointer { o in
            attentionValuePairs(o.baseAddress!, o.baseAddress! + headDim, weights: w0, w1, values: values,
                                stride: stride, n: n, headDim: headDim)
        }
        pb.withUnsafeMutableBufferPointer { o in
            attentionValuePairs(o.baseAddress!, o.baseAddress! + headDim, weights: w0, w1, values: values16,
                                element: element, stride: stride, n: n, headDim: headDim)
        }
        #expect(pa == pb)
        var one = [Float](repeating: .nan, count: headDim)
        attentionValues(&one, weights: w0, values: values16, element: element, stride: stride, n: n, headDim: headDim)
        #expect(one == Array(pa[0..<headDim]))
    }

    @Test func bf16RoundsToNearestEven() {
        // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties go to the even (1); just above goes up.
        let x: [Float] = [1, 1 + 0x1p-8, 1 + 0x1p-8 + 0x1p-20, -(1 + 3 * 0x1p-8), .infinity, 3.0e38]
        var bits = [UInt16](repeating: 0, count: x.count), back = [Float](repeating: 0, count: x.count)
        storeCacheRow(&bits, x, element: .bf16, count: x.count)
        loadCacheRow(&back, bits, element: .bf16, count: x.count)
        #expect(back[0] == 1 && back[1] == 1 && back[2] == 1 + 0x1p-7 && back[3] == -(1 + 4 * 0x1p-8))
        #expect(back[4] == .infinity && back[5].isFinite && abs(back[5] - 3.0e38) < 0.004 * 3.0e38)
        var nan = [UInt16](repeating: 0, count: 1), nanBack: [Float] = [0]
        storeCacheRow(&nan, [Float.nan], element: .bf16, count: 1)
        loadCacheRow(&nanBack, nan, element: .bf16, count: 1)
        #expect(nanBack[0].isNaN)
    }
}
