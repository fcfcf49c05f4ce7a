import Kernels
import Synchronization
import Testing

@Suite struct ThreadPoolTests {
    @Test(arguments: [1, 2, 3])
    func coversEveryIndexOnce(threads: Int) {
        let pool = ThreadPool(threadCount: threads)
        for n in [0, 1, 2, 3, 7, 64, 1000] {
            for grain in [1, 4, 100] {
                let counts = UnsafeMutablePointer<Int>.allocate(capacity: max(n, 1))
                counts.initialize(repeating: 0, count: max(n, 1))
                defer { counts.deallocate() }
                let ranges = Atomic<Int>(0)
                pool.parallelFor(n, grain: grain) { range in
                    ranges.wrappingAdd(1, ordering: .relaxed)
                    // Ranges are disjoint, so these writes never race.
                    for i in range { counts[i] += 1 }
                }
                #expect((0..<n).allSatisfy { counts[$0] == 1 }, "n=\(n) grain=\(grain) threads=\(threads)")
                if n == 0 { #expect(ranges.load(ordering: .relaxed) == 0) }
            }
        }
    }

    @Test func manyQuickCallsInARow() {
        // Exercises the spin / sleep hand-off and late-waking workers.
        let pool = ThreadPool(threadCount: 2)
        let total = Atomic<Int>(0)
        for round in 0..<5000 {
            pool.parallelFor(8) { range in total.wrappingAdd(range.count, ordering: .relaxed) }
            if round % 1000 == 0 { usleepShort() }
        }
        #expect(total.load(ordering: .relaxed) == 5000 * 8)
    }

    @Test func poolsAreReleased() {
        for _ in 0..<20 {
            let pool = ThreadPool(threadCount: 2)
            pool.parallelFor(4) { _ in }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Long enough for the workers to go to sleep.
func usleepShort() { usleep(2000) }
