// Element-wise vector helpers over raw buffers. No allocation; any alignment.

/// Σ a[i]·b[i].
/// - Parameters: a: (count), b: (count).
public func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    var s0 = Vec(), s1 = Vec()
    var i = 0
    while i + 32 <= count {
        s0 = s0.addingProduct(load16(a + i), load16(b + i))
        s1 = s1.addingProduct(load16(a + i + 16), load16(b + i + 16))
        i += 32
    }
    if i + 16 <= count {
        s0 = s0.addingProduct(load16(a + i), load16(b + i))
        i += 16
    }
    var s = horizontalSum(s0 + s1)
    while i < count {
        s = s.addingProduct(a[i], b[i])
        i += 1
    }
    return s
}

/// out[i] = a[i] + b[i]. `out` may alias `a` or `b`.
/// - Parameters: out: (count), a: (count), b: (count).
public func add(_ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) {
    var i = 0
    while i + 16 <= count {
        store16(load16(a + i) + load16(b + i), out + i)
        i += 16
    }
    while i < count {
        out[i] = a[i] + b[i]
        i += 1
    }
}

/// y[i] += x[i] (the residual add).
/// - Parameters: y: (count), x: (count).
public func addInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
    add(y, UnsafePointer(y), x, count: count)
}

/// y[i] += alpha · x[i].
/// - Parameters: y: (count), x: (count).
public func addScaled(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, alpha: Float, count: Int) {
    let a = Vec(repeating: alpha)
    var i = 0
    while i + 16 <= count {
        store16(load16(y + i).addingProduct(a, load16(x + i)), y + i)
        i += 16
    }
    while i < count {
        y[i] = y[i].addingProduct(alpha, x[i])
        i += 1
    }
}

/// x[i] *= factor.
/// - Parameters: x: (count).
public func scale(_ x: UnsafeMutablePointer<Float>, by factor: Float, count: Int) {
    let f = Vec(repeating: factor)
    var i = 0
    while i + 16 <= count {
        store16(load16(x + i) * f, x + i)
        i += 16
    }
    while i < count {
        x[i] *= factor
        i += 1
    }
}

/// Index of the largest value (the first one on ties; NaNs are skipped); -1 when count == 0.
/// - Parameters: x: (count).
public func argmax(_ x: UnsafePointer<Float>, count: Int) -> Int {
    guard count > 0 else { return -1 }
    // Vector pass finds the maximum, a scalar pass finds its first index.
    var best = -Float.infinity
    var i = 0
    if count >= 16 {
        var m = Vec(repeating: -.infinity)
        while i + 16 <= count {
            m = lanewiseMax(m, load16(x + i))
            i += 16
        }
        best = horizontalMax(m)
    }
    while i < count {
        if x[i] > best { best = x[i] }
        i += 1
    }
    // First index of the maximum: 16 lanes compared at once, then the lanes of the block that has it.
    let target = Vec(repeating: best)
    var j = 0
    while j + 16 <= count {
        if any(load16(x + j) .== target) { break }
        j += 16
    }
    for k in j..<count where x[k] == best { return k }
    return 0  // all NaN
}
