// Gated activations for the MLP.

/// out[i] = silu(a[i]) · b[i], silu(a) = a · sigmoid(a) = a / (1 + e^-a). `out` may alias a or b.
/// - Parameters: out: (count), a: (count) gate, b: (count) up projection.
public func siluMul(_ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) {
    let one = Vec(repeating: 1)
    var i = 0
    while i + 16 <= count {
        let av = load16(a + i)
        store16(av / (one + exp16(-av)) * load16(b + i), out + i)
        i += 16
    }
    while i < count {
        out[i] = a[i] / (1 + exp1(-a[i])) * b[i]
        i += 1
    }
}

/// x[i] = silu(x[i]).
/// - Parameters: x: (count).
public func silu(_ x: UnsafeMutablePointer<Float>, count: Int) {
    let one = Vec(repeating: 1)
    var i = 0
    while i + 16 <= count {
        let v = load16(x + i)
        store16(v / (one + exp16(-v)), x + i)
        i += 16
    }
    while i < count {
        x[i] = x[i] / (1 + exp1(-x[i]))
        i += 1
    }
}
