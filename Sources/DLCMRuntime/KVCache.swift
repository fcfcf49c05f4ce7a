import Kernels

/// Keys and values of one transformer stack for one sequence: per layer K and V of shape
/// (count, kvDim) in `element` (f32, or bf16 / f16 to halve the memory a position takes), RoPE
/// already applied to K. Grows on demand up to the model's limit.
final class KVCache {
    let layers: Int
    let kvDim: Int
    let element: CacheElement
    /// Positions stored (the same in every layer once a forward pass completes).
    private(set) var count = 0
    // Storage in f32 units; a position takes kvDim * element.byteSize bytes.
    private var keys: [FloatBuffer]
    private var values: [FloatBuffer]
    /// Positions the stack can ever hold (its RoPE table's length): growth stops there.
    let maxPositions: Int
    /// Positions every layer has room for.
    private(set) var capacity: Int

    init(layers: Int, kvDim: Int, element: CacheElement = .standard, initialPositions: Int = 16, maxPositions: Int = .max) {
        self.layers = layers
        self.kvDim = kvDim
        self.element = element
        self.maxPositions = maxPositions
        capacity = max(1, min(initialPositions, maxPositions))
        let floats = (capacity * kvDim * element.byteSize + 3) / 4
        keys = (0..<layers).map { _ in FloatBuffer(capacity: floats) }
        values = (0..<layers).map { _ in FloatBuffer(capacity: floats) }
    }

    /// f32 units `positions` positions take.
    private func floats(_ positions: Int) -> Int { (positions * kvDim * element.byteSize + 3) / 4 }

    /// Bytes between consecutive positions.
    var rowBytes: Int { kvDim * element.byteSize }

    /// Ensures positions up to `positions` fit in every layer. Grows by doubling (amortised
    /// copies), never past `maxPositions`: a sequence at the context limit holds exactly it.
    func reserve(positions: Int) {
        guard positions > capacity else { return }
        let target = max(positions, min(2 * capacity, maxPositions))
        for l in 0..<layers {
            keys[l].reserveExactly(floats(target), keep: floats(count))
            values[l].reserveExactly(floats(target), keep: floats(count))
        }
        capacity = target
    }

    /// (capacity, kvDim) `element`s: keys of layer `l`; rows >= count are being written by the
    /// pass in flight.
    func keys(_ l: Int) -> UnsafeRawPointer { UnsafeRawPointer(keys[l].pointer) }
    func values(_ l: Int) -> UnsafeRawPointer { UnsafeRawPointer(values[l].pointer) }

    /// Writes the key and value rows (kvDim f32 each) of position `pos` in layer `l`, rounded to
    /// `element`.
    func store(layer l: Int, position pos: Int, key: UnsafePointer<Float>, value: UnsafePointer<Float>) {
        storeCacheRow(UnsafeMutableRawPointer(keys[l].pointer) + pos * rowBytes, key, element: element, count: kvDim)
        storeCacheRow(UnsafeMutableRawPointer(values[l].pointer) + pos * rowBytes, value, element: element, count: kvDim)
    }

    /// Commits `n` positions written by a pass to every layer.
    func advance(by n: Int) { count += n }

    func reset() {
        count = 0
        for l in 0..<layers { keys[l].shrink(to: floats(16)); values[l].shrink(to: floats(16)) }
        capacity = min(capacity, 16)
    }

    var bytes: Int { keys.reduce(0) { $0 + $1.bytes } + values.reduce(0) { $0 + $1.bytes } }

    /// An independent cache holding the same positions.
    func copy() -> KVCache {
        // The copy keeps the room reserved ahead (a forked sample decodes on from here).
        let c = KVCache(layers: layers, kvDim: kvDim, element: element, initialPositions: max(capacity, 16), maxPositions: maxPositions)
        for l in 0..<layers {
            c.keys[l].pointer.update(from: keys[l].pointer, count: floats(count))
            c.values[l].pointer.update(from: values[l].pointer, count: floats(count))
        }
        c.count = count
        return c
    }
}
