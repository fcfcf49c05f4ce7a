/// Keys and values of one transformer stack for one sequence: per layer K and V of shape
/// (count, kvDim), RoPE already applied to K. Grows on demand up to the model's limit.
final class KVCache {
    let layers: Int
    let kvDim: Int
    /// Positions stored (the same in every layer once a forward pass completes).
    private(set) var count = 0
    private var keys: [FloatBuffer]
    private var values: [FloatBuffer]

    init(layers: Int, kvDim: Int, initialPositions: Int = 16) {
        self.layers = layers
        self.kvDim = kvDim
        keys = (0..<layers).map { _ in FloatBuffer(capacity: initialPositions * kvDim) }
        values = (0..<layers).map { _ in FloatBuffer(capacity: initialPositions * kvDim) }
    }

    /// Ensures positions up to `positions` fit in every layer.
    func reserve(positions: Int) {
        for l in 0..<layers {
            keys[l].reserve(positions * kvDim, keep: count * kvDim)
            values[l].reserve(positions * kvDim, keep: count * kvDim)
        }
    }

    /// (capacity, kvDim) keys of layer `l`; rows >= count are being written by the pass in flight.
    func keys(_ l: Int) -> UnsafeMutablePointer<Float> { keys[l].pointer }
    func values(_ l: Int) -> UnsafeMutablePointer<Float> { values[l].pointer }

    /// Commits `n` positions written by a pass to every layer.
    func advance(by n: Int) { count += n }

    func reset() {
        count = 0
        for l in 0..<layers { keys[l].shrink(to: 16 * kvDim); values[l].shrink(to: 16 * kvDim) }
    }

    var bytes: Int { keys.reduce(0) { $0 + $1.bytes } + values.reduce(0) { $0 + $1.bytes } }

    /// An independent cache holding the same positions.
    func copy() -> KVCache {
        let c = KVCache(layers: layers, kvDim: kvDim, initialPositions: max(count, 16))
        for l in 0..<layers {
            c.keys[l].pointer.update(from: keys[l].pointer, count: count * kvDim)
            c.values[l].pointer.update(from: values[l].pointer, count: count * kvDim)
        }
        c.count = count
        return c
    }
}
