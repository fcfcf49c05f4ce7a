import Kernels

/// Deterministic pseudo-random floats in [-1, 1).
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> Float {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return Float(Int64(bitPattern: state >> 40) - (1 << 23)) / Float(1 << 23)
    }
    mutating func array(_ count: Int) -> [Float] { (0..<count).map { _ in next() } }
}

/// Weights stored as `type` plus their exact f32 values (what the kernel should decode).
struct EncodedWeights {
    let type: WeightType
    /// Elements, or for quantized types their codes.
    let bytes: [UInt8]
    /// Quantized types: the f16 block scales (empty otherwise).
    let scales: [UInt8]
    let decoded: [Float]

    /// - Parameter values: for quantized types, whole rows of a width that is a multiple of 32.
    init(_ values: [Float], type: WeightType) {
        self.type = type
        if type.isQuantized {
            var codes = [UInt8](repeating: 0, count: type.rowBytes(values.count))
            var scales = [UInt8](repeating: 0, count: values.count / quantBlock * 2)
            var decoded = [Float](repeating: 0, count: values.count)
            let ok = codes.withUnsafeMutableBytes { c in
                scales.withUnsafeMutableBytes { s in
                    let ok = quantize(values, count: values.count, as: type, codes: c.baseAddress!, scales: s.baseAddress!)
                    dequantize(codes: c.baseAddress!, scales: s.baseAddress!, type: type, count: values.count, into: &decoded)
                    return ok
                }
            }
            precondition(ok, "values not quantizable")
            (bytes, self.scales, self.decoded) = (codes, scales, decoded)
            return
        }
        var bytes = [UInt8]()
        var decoded = [Float]()
        for v in values {
            switch type {
            case .f32:
                withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 }
                decoded.append(v)
            case .bf16:
                let bits = UInt16(truncatingIfNeeded: v.bitPattern >> 16)
                withUnsafeBytes(of: bits.littleEndian) { bytes += $0 }
                decoded.append(Float(bitPattern: UInt32(bits) << 16))
            case .f16:
                let h = Float16(v)
                withUnsafeBytes(of: h.bitPattern.littleEndian) { bytes += $0 }
                decoded.append(Float(h))
            case .q8_0, .q4_0:
                break
            }
        }
        self.bytes = bytes
        self.scales = []
        self.decoded = decoded
    }

    /// The weights as an (n, k) matrix, valid inside `body`.
    /// `products`: how matvec multiplies it if quantized (exact unless a test says otherwise).
    func withMatrix<R>(n: Int, k: Int, products: QuantizedProducts = .exact, _ body: (WeightMatrix) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { raw in
            try scales.withUnsafeBytes { s in
                var w = WeightMatrix(base: raw.baseAddress!, type: type, rows: n, cols: k, scales: type.isQuantized ? s.baseAddress! : nil)
                w.quantizedProducts = products
                return try body(w)
            }
        }
    }
}

/// Y = X·Wᵀ in double precision, plus Σ|x·w| per output (for a relative tolerance).
func referenceMatmul(x: [Float], w: [Float], m: Int, n: Int, k: Int) -> (y: [Double], magnitude: [Double]) {
    var y = [Double](repeating: 0, count: m * n)
    var magnitude = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0, a = 0.0
            for l in 0..<k {
                let p = Double(x[i * k + l]) * Double(w[j * k + l])
                s += p
                a += abs(p)
            }
            y[i * n + j] = s
            magnitude[i * n + j] = a
        }
    }
    return (y, magnitude)
}

/// Largest |a - b| / (scale + 1e-30) over all elements, with a description of where.
func maxRelativeError(_ a: [Float], _ b: [Double], scale: [Double]) -> (Double, Int) {
    var worst = 0.0, at = -1
    for i in a.indices {
        let e = abs(Double(a[i]) - b[i]) / (scale[i] + 1e-30)
        if e > worst || e.isNaN { worst = e; at = i }
    }
    return (worst, at)
}

/// `referenceMatmul`, plus `initial` added to the result and its magnitude when accumulating.
func referenceMatmul(x: [Float], w: [Float], m: Int, n: Int, k: Int, adding initial: [Float]?) -> (y: [Double], magnitude: [Double]) {
    var (expected, magnitude) = referenceMatmul(x: x, w: w, m: m, n: n, k: k)
    if let initial {
        for i in expected.indices {
            expected[i] += Double(initial[i])
            magnitude[i] += abs(Double(initial[i]))
        }
    }
    return (expected, magnitude)
}
