/// Stored key and value rows of consecutive positions, every layer, in the cache's element
/// type: what a prefix-cache block keeps of one stack.
struct KVRows {
    /// Position of the first row.
    let first: Int
    let count: Int
    /// Per layer: `count` key rows, then `count` value rows. (layers, 2, count, kvDim) elements.
    let data: [UInt8]

    var end: Int { first + count }
    var bytes: Int { data.count }
}

extension KVCache {
    /// The rows a sequence at position `end` reads on from: every position from `start` on for a
    /// full cache; for a windowed one the last `window - 1` positions before `end` (all a later
    /// query reaches), wherever they began.
    func exportRows(from start: Int, to end: Int) -> KVRows {
        precondition(end == count, "rows are taken at the cache's end")
        let first = window > 0 ? max(0, end - (window - 1)) : start
        precondition(first >= base, "the rows were dropped from the window")
        let n = end - first, rowBytes = self.rowBytes, span = n * rowBytes
        var data = [UInt8](repeating: 0, count: layers * 2 * span)
        data.withUnsafeMutableBytes { out in
            for l in 0..<layers {
                let at = (first - base) * rowBytes
                (out.baseAddress! + 2 * l * span).copyMemory(from: keys(l) + at, byteCount: span)
                (out.baseAddress! + (2 * l + 1) * span).copyMemory(from: values(l) + at, byteCount: span)
            }
        }
        return KVRows(first: first, count: n, data: data)
    }

    /// Continues the cache with `rows` (from `exportRows`), so that it holds what the exporting
    /// cache held at `rows.end`: appended after the current end, or for a windowed cache in place
    /// of everything (its rows start where the window does).
    func importRows(_ rows: KVRows) {
        precondition(rows.data.count == layers * 2 * rows.count * rowBytes, "rows of another shape")
        if window > 0 {
            resetWindow(at: rows.first)
        } else {
            precondition(rows.first == count, "rows must continue the cache")
        }
        reserve(positions: rows.end)
        let span = rows.count * rowBytes, at = (rows.first - base) * rowBytes
        rows.data.withUnsafeBytes { src in
            for l in 0..<layers {
                UnsafeMutableRawPointer(mutating: keys(l) + at).copyMemory(from: src.baseAddress! + 2 * l * span, byteCount: span)
                UnsafeMutableRawPointer(mutating: values(l) + at).copyMemory(from: src.baseAddress! + (2 * l + 1) * span, byteCount: span)
            }
        }
        advance(by: rows.end - count)
    }
}
