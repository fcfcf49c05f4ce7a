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
}
