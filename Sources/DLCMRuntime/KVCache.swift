import Kernels

/// Keys and values of one transformer stack for one sequence: per layer K and V of shape
/// (stored rows, kvDim) in `element` (f32, or bf16 / f16 to halve the memory a position takes),
/// RoPE already applied to K. Grows on demand up to the model's limit.
///
/// A windowed stack (its queries see only the last `window` positions) keeps only the rows still
/// in reach: storage row i holds position `base + i`, and when the rows run out the last
/// `window - 1` are moved to the front. Its memory is then a few windows whatever the context.
final class KVCache {
    let layers: Int
    let kvDim: Int
    let element: CacheElement
    /// Positions a query attends, its own included; 0: every earlier one (all are kept).
    let window: Int
    /// Positions stored (the same in every layer once a forward pass completes).
    private(set) var count = 0
    /// The position held in storage row 0 (0 unless windowed).
    private(set) var base = 0
    // Storage in f32 units; a position takes kvDim * element.byteSize bytes.
    private var keys: [FloatBuffer]
    private var values: [FloatBuffer]
    /// Positions the stack can ever hold (its RoPE table's length): growth stops there.
    let maxPositions: Int
    /// Storage rows every layer has room for.
    private(set) var capacity: Int

    init(layers: Int, kvDim: Int, element: CacheElement = .standard, window: Int = 0, initialPositions: Int = 16,
         maxPositions: Int = .max) {
        self.layers = layers
        self.kvDim = kvDim
        self.element = element
        self.window = window
        self.maxPositions = maxPositions
        capacity = max(1, min(initialPositions, maxPositions))
        let floats = (capacity * kvDim * element.byteSize + 3) / 4
        keys = (0..<layers).map { _ in FloatBuffer(capacity: floats) }
        values = (0..<layers).map { _ in FloatBuffer(capacity: floats) }
    }

    /// f32 units `rows` rows take.
    private func floats(_ rows: Int) -> Int { (rows * kvDim * element.byteSize + 3) / 4 }

    /// Bytes between consecutive positions.
    var rowBytes: Int { kvDim * element.byteSize }

    /// Ensures positions up to `positions` can be stored in every layer: a windowed cache first
    /// drops the rows no query from `count` on can reach. Grows by doubling (amortised copies),
    /// never past `maxPositions` rows.
    func reserve(positions: Int) {
        if window > 0 && positions - base > capacity { compact() }
        let rows = positions - base
        guard rows > capacity else { return }
        let target = max(rows, min(2 * capacity, maxPositions))
        for l in 0..<layers {
            keys[l].reserveExactly(floats(target), keep: floats(count - base))
            values[l].reserveExactly(floats(target), keep: floats(count - base))
        }
        capacity = target
    }

    /// Moves the last `window - 1` positions (all the next position's query reads besides its
    /// own) to storage row 0.
    private func compact() {
        let newBase = max(base, count - (window - 1))
        guard newBase > base else { return }
        let kept = count - newBase, from = (newBase - base) * rowBytes
        for l in 0..<layers {
            for buffer in [keys[l], values[l]] {
                let raw = UnsafeMutableRawPointer(buffer.pointer)
                raw.copyMemory(from: raw + from, byteCount: kept * rowBytes)   // memmove: the ranges may overlap
            }
        }
        base = newBase
    }

    /// (stored rows, kvDim) `element`s: keys of layer `l`, row i at position `base + i`; rows at
    /// positions >= count are being written by the pass in flight.
    func keys(_ l: Int) -> UnsafeRawPointer { UnsafeRawPointer(keys[l].pointer) }
    func values(_ l: Int) -> UnsafeRawPointer { UnsafeRawPointer(values[l].pointer) }

    /// Writes the key and value rows (kvDim f32 each) of position `pos` in layer `l`, rounded to
    /// `element`.
    func store(layer l: Int, position pos: Int, key: UnsafePointer<Float>, value: UnsafePointer<Float>) {
        let at = (pos - base) * rowBytes
        storeCacheRow(UnsafeMutableRawPointer(keys[l].pointer) + at, key, element: element, count: kvDim)
        storeCacheRow(UnsafeMutableRawPointer(values[l].pointer) + at, value, element: element, count: kvDim)
    }

    /// Commits `n` positions written by a pass to every layer.
    func advance(by n: Int) { count += n }

    /// Empties a windowed cache so that its next rows are stored from position `position` on
    /// (no earlier position is ever read again): a resumed sequence's window.
    func resetWindow(at position: Int) {
        precondition(window > 0)
        count = position
        base = position
    }

    func reset() {
        count = 0
        base = 0
        for l in 0..<layers { keys[l].shrink(to: floats(16)); values[l].shrink(to: floats(16)) }
        capacity = min(capacity, 16)
    }

    var bytes: Int { keys.reduce(0) { $0 + $1.bytes } + values.reduce(0) { $0 + $1.bytes } }

    /// An independent cache holding the same positions.
    func copy() -> KVCache {
        // The copy keeps the room reserved ahead (a forked sample decodes on from here).
        let c = KVCache(layers: layers, kvDim: kvDim, element: element, window: window, initialPositions: max(capacity, 16),
                        maxPositions: maxPositions)
        for l in 0..<layers {
            c.keys[l].pointer.update(from: keys[l].pointer, count: floats(count - base))
            c.values[l].pointer.update(from: values[l].pointer, count: floats(count - base))
        }
        c.count = count
        c.base = base
        return c
    }
}
