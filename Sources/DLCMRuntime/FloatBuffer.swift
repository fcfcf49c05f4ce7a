/// A growable, 64-byte aligned f32 buffer that keeps its contents when it grows. The runtime's
/// caches and scratch space are made of these, so steady-state decoding allocates nothing.
final class FloatBuffer {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var capacity: Int

    init(capacity: Int = 0) {
        self.capacity = max(capacity, 16)
        pointer = FloatBuffer.allocate(self.capacity)
    }

    deinit { free(pointer) }

    /// Makes room for `count` floats, keeping the first `keep` (all by default).
    func reserve(_ count: Int, keep: Int? = nil) {
        guard count > capacity else { return }
        reserveExactly(max(count, capacity * 2), keep: keep ?? capacity)
    }

    /// Grows to exactly `count` floats if it holds fewer, keeping the first `keep`.
    func reserveExactly(_ count: Int, keep: Int) {
        guard count > capacity else { return }
        let fresh = FloatBuffer.allocate(count)
        let kept = min(keep, capacity)
        if kept > 0 { fresh.update(from: pointer, count: kept) }
        free(pointer)
        pointer = fresh
        capacity = count
    }

    /// Drops memory beyond `count` floats (used when a long sequence is reset).
    func shrink(to count: Int) {
        let target = max(count, 16)
        guard target < capacity else { return }
        let fresh = FloatBuffer.allocate(target)
        fresh.update(from: pointer, count: target)
        free(pointer)
        pointer = fresh
        capacity = target
    }

    var bytes: Int { capacity * MemoryLayout<Float>.stride }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        var raw: UnsafeMutableRawPointer?
        let rc = posix_memalign(&raw, 64, count * MemoryLayout<Float>.stride)
        precondition(rc == 0 && raw != nil, "out of memory allocating \(count) floats")
        return raw!.bindMemory(to: Float.self, capacity: count)
    }
}

#if canImport(Glibc)
import Glibc
#endif
