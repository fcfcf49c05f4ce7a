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
}
