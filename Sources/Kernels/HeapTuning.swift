import CKernelSupport

/// How the C heap gives memory back. By default glibc returns the top of the heap to the kernel
/// as soon as 128 KiB are free there, and maps larger blocks one by one; a server that builds and
/// drops the same buffers every step and every request (logits, KV caches) then faults the same
/// pages in again and again. Measured (`dlcm bench --engine-streams 16`, 256 requests of 128
/// tokens): 15-21k page faults per run by default, 12k with 64 MiB kept (the 12k are loading the
/// model), and the engine thread had spent ~1.3% of its time in the page-fault handler.
public enum HeapTuning {
    /// Keeps up to `bytes` of freed heap mapped, and serves blocks up to half of it from the heap.
    /// False where it cannot (not glibc).
    @discardableResult
    public static func keepFreedHeap(bytes: Int) -> Bool {
        dlcm_keep_freed_heap(UInt(max(0, bytes))) == 0
    }

    /// What `dlcm serve` and `dlcm bench` keep: 64 MiB.
    public static let serverBytes = 64 << 20

    /// Gives every arena's free memory back to the kernel, the kept 64 MiB included (each
    /// thread's arena keeps its own, so a few busy threads held three times that after a burst
    /// of large answers). For a server that has gone quiet: the next burst faults pages in again.
    public static func releaseFreed() {
        _ = dlcm_release_freed_heap()
    }
}
