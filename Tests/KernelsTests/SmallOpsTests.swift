import Kernels
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SmallOpsTests {
    static let sizes = [1, 5, 16, 17, 31, 64, 100]

    @Test func rmsnormMatchesReference() {
        var random = SeededRandom(seed: 1)
        for dim in Self.sizes {
            let rows = 3
            let x = random.array(rows * dim), w = random.array(dim)
            var out = [Float](repeating: 0, count: rows * dim)
            rmsnorm(&out, x, weight: w, dim: dim, rows: rows, eps: 1e-5)
            for r in 0..<rows {
                let ms = (0..<dim).reduce(0.0) { $0 + Double(x[r * dim + $1]) * Double(x[r * dim + $1]) } / Double(dim)
                let inv = 1 / (ms + 1e-5).squareRoot()
                for i in 0..<dim {
                    let e = Double(x[r * dim + i]) * inv * Double(w[i])
                    #expect(abs(Double(out[r * dim + i]) - e) < 1e-5 * max(1, abs(e)), "dim \(dim)")
                }
            }
            // In place gives the same.
            var inPlace = x
            inPlace.withUnsafeMutableBufferPointer { p in
                rmsnorm(p.baseAddress!, p.baseAddress!, weight: w, dim: dim, rows: rows, eps: 1e-5)
            }
            #expect(inPlace == out)
        }
    }

    @Test func ropeMatchesReference() {
        var random = SeededRandom(seed: 2)
        for headDim in [2, 8, 32, 34, 64, 96] {
            let heads = 3, rows = 4
            let rope = RoPE(headDim: headDim, theta: 10_000)
            let positions = [0, 1, 17, 4000]
            let x = random.array(rows * heads * headDim)
            var y = x
            rope.apply(&y, rows: rows, heads: heads, positions: positions)
            let half = headDim / 2
            for r in 0..<rows {
                for h in 0..<heads {
                    let base = (r * heads + h) * headDim
                    for i in 0..<half {
                        let freq = 1 / pow(10_000.0, Double(2 * i) / Double(headDim))
                        let angle = Double(positions[r]) * freq
                        let x1 = Double(x[base + i]), x2 = Double(x[base + i + half])
                        let e1 = x1 * cos(angle) - x2 * sin(angle)
                        let e2 = x2 * cos(angle) + x1 * sin(angle)
                        // f32 angles at position 4000 differ from double ones by ~4000 * 6e-8.
                        let tolerance = 1e-5 + Double(positions[r]) * 2e-7
                        #expect(abs(Double(y[base + i]) - e1) < tolerance, "hd \(headDim) pos \(positions[r]) i \(i)")
                        #expect(abs(Double(y[base + i + half]) - e2) < tolerance, "hd \(headDim) pos \(positions[r]) i \(i)")
                    }
                }
            }
            // Position 0 is the identity.
            var z = Array(x[0..<(heads * headDim)])
            rope.apply(&z, heads: heads, position: 0)
            #expect(z == Array(x[0..<(heads * headDim)]))
        }
    }

    @Test func softmaxMatchesReference() {
        var random = SeededRandom(seed: 3)
        for n in Self.sizes {
            var x = random.array(n + 3).map { $0 * 30 }
            let original = x
            softmax(&x, length: n)
            let m = original[0..<n].max()!
            let sum = original[0..<n].reduce(0.0) { $0 + exp(Double($1 - m)) }
            for i in 0..<n {
                let e = exp(Double(original[i] - m)) / sum
                #expect(abs(Double(x[i]) - e) < 1e-6 * max(e, 1e-3), "n \(n) i \(i)")
            }
            #expect(Array(x[n...]) == Array(original[n...]), "past length untouched")
        }
    }

    @Test func softmaxMaskedAndExtremes() {
        var x: [Float] = [0, -.infinity, 1000, -1000, -.infinity]
        softmax(&x, length: 5)
        #expect(x == [0, 0, 1, 0, 0])
        var one: [Float] = [3]
        softmax(&one, length: 1)
        #expect(one == [1])
        var big = [Float](repeating: 0, count: 40)
        big[33] = -.infinity
        softmax(&big, length: 40)
        #expect(big[33] == 0)
        #expect(abs(big[0] - 1 / 39) < 1e-7)
    }

    @Test func siluMulMatchesReference() {
        var random = SeededRandom(seed: 4)
        for n in Self.sizes + [300] {
            let a = random.array(n).map { $0 * 20 }, b = random.array(n)
            var out = [Float](repeating: 0, count: n)
            siluMul(&out, a, b, count: n)
            var s = a
            silu(&s, count: n)
            for i in 0..<n {
                let silu = Double(a[i]) / (1 + exp(-Double(a[i])))
                #expect(abs(Double(out[i]) - silu * Double(b[i])) < 1e-6 * max(1, abs(silu)), "n \(n) a \(a[i])")
                #expect(abs(Double(s[i]) - silu) < 1e-6 * max(1, abs(silu)))
            }
        }
        var extreme: [Float] = [-100, 100, -1e30, 1e30, 0]
        silu(&extreme, count: 5)
        #expect(extreme[0] <= 0 && extreme[0] > -1e-30)
        #expect(extreme[1] == 100 && extreme[2] <= 0 && extreme[3] == 1e30 && extreme[4] == 0)
    }

    @Test func vectorHelpers() {
        var random = SeededRandom(seed: 5)
        for n in Self.sizes + [0, 257] {
            let a = random.array(n), b = random.array(n)
            let expectedDot = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            #expect(abs(Double(dot(a, b, count: n)) - expectedDot) < 1e-5)
            var sum = [Float](repeating: 0, count: n)
            add(&sum, a, b, count: n)
            #expect(sum == zip(a, b).map { $0 + $1 })
            var y = a
            addInPlace(&y, b, count: n)
            #expect(y == sum)
            y = a
            addScaled(&y, b, alpha: 0.5, count: n)
            for i in 0..<n { #expect(abs(y[i] - (a[i] + 0.5 * b[i])) < 1e-6) }
            y = a
            scale(&y, by: 3, count: n)
            #expect(y == a.map { $0 * 3 })
            if n > 0 {
                #expect(argmax(a, count: n) == a.firstIndex(of: a.max()!)!)
            } else {
                #expect(argmax(a, count: 0) == -1)
            }
        }
        // Ties go to the first; NaN is skipped; -inf works.
        var t = [Float](repeating: 1, count: 40)
        t[7] = 2; t[30] = 2; t[3] = .nan
        #expect(argmax(t, count: 40) == 7)
        #expect(argmax([-Float.infinity, -.infinity], count: 2) == 0)
    }
}

/// `FMAPeak`: what `dlcm bench` and `kernel-bench` report against. Bounds that any x86-64 or
/// arm64 core meets (1 GFLOP/s is a scalar core without FMA; 2 TFLOP/s would be 32 FMA lanes at
/// 30 GHz): a broken measurement (zero, infinite, NaN, a timer unit slip) falls outside them.
@Suite struct FMAPeakTests {
    @Test func peakIsAPlausibleRate() {
        let peak = FMAPeak.measureGFLOPs()
        #expect(peak.isFinite && peak > 1 && peak < 2000, "\(peak)")
    }
}
