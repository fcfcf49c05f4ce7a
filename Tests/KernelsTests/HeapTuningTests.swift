import Foundation
import Kernels
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct HeapTuningTests {
    /// Minor page faults of the calling thread so far.
    static func faults() -> Int {
        var usage = rusage()
        getrusage(1, &usage)   // RUSAGE_THREAD (a _GNU_SOURCE name Glibc does not import)
        return usage.ru_minflt
    }

    /// With freed heap kept, a block freed and allocated again comes back mapped: touching it
    /// again faults almost nothing (by default an 8 MiB block is mapped afresh each time, 2048
    /// faults).
    @Test func freedBlocksComeBackWithoutFaults() throws {
        #if canImport(Glibc)
        #expect(HeapTuning.keepFreedHeap(bytes: HeapTuning.serverBytes))
        let bytes = 8 << 20
        func touchOnce() {
            let p = malloc(bytes)!.assumingMemoryBound(to: UInt8.self)
            for i in stride(from: 0, to: bytes, by: 4096) { p[i] = UInt8(truncatingIfNeeded: i) }
            free(p)
        }
        touchOnce()   // the first time maps the pages
        let before = Self.faults()
        for _ in 0..<4 { touchOnce() }
        #expect(Self.faults() - before < 256, "\(Self.faults() - before) faults for 4 x 2048 pages")
        #endif
    }
}
