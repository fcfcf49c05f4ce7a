// Numerically stable softmax, in place.

/// x[0 ..< length] = softmax(x[0 ..< length]); entries past `length` are untouched.
/// -inf entries (masked positions) become exactly 0. Does nothing when length == 0.
/// - Parameters: x: (>= length) f32.
public func softmax(_ x: UnsafeMutablePointer<Float>, length: Int) {
    guard length > 0 else { return }
    let maximum = x[argmax(x, count: length)]
    let m = Vec(repeating: maximum)
    var sums = Vec()
    var i = 0
    while i + 16 <= length {
        let e = exp16(load16(x + i) - m)
        store16(e, x + i)
        sums += e
        i += 16
    }
    var sum = horizontalSum(sums)
    while i < length {
        let e = exp1(x[i] - maximum)
        x[i] = e
        sum += e
        i += 1
    }
    scale(x, by: 1 / sum, count: length)
}

/// out[i] = e^((x[i] - shift) · scale) for i < count; returns their sum. The sampler's
/// temperature-scaled, unnormalised probabilities over a whole vocabulary in one vector pass
/// (-inf logits give exactly 0).
/// - Parameters: out, x: (count) f32; they may be the same buffer.
@discardableResult
public func expScaled(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int,
                      shift: Float, scale: Float) -> Float {
    let s = Vec(repeating: shift), k = Vec(repeating: scale)
    var sums = Vec()
    var i = 0
    while i + 16 <= count {
        let e = exp16((load16(x + i) - s) * k)
        store16(e, out + i)
        sums += e
        i += 16
    }
    var sum = horizontalSum(sums)
    while i < count {
        let e = exp1((x[i] - shift) * scale)
        out[i] = e
        sum += e
        i += 1
    }
    return sum
}
