import SystemThread
import CKernelSupport
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tiny persistent pool of plain pthreads for data-parallel kernels.
///
/// Not Swift concurrency: the cooperative pool is only as wide as the machine, and blocking
/// compute there stalls everything else. `parallelFor` hands out chunks of `0..<n` dynamically
/// (so a worker whose core is busy with something else simply takes fewer chunks); the calling
/// thread works too, so a pool of `threadCount` runs `threadCount - 1` extra threads, and a pool
/// of 1 runs everything inline. Idle workers spin briefly (giving way to other threads on their
/// CPU after ~10 us), then sleep on a condition variable.
///
/// Concurrent `parallelFor` calls from different threads take turns (a lock); calling it from
/// inside its own body deadlocks.
public final class ThreadPool: @unchecked Sendable {
    /// Threads taking part in a `parallelFor`, the calling thread included.
    public let threadCount: Int

    /// Work generation (high 32 bits) and chunks not yet handed out (low 32 bits), in one word,
    /// so a worker that wakes late for an old generation can never take a chunk of a new one.
    private let state = Atomic<Int>(0)
    /// Chunks finished in the current generation.
    private let finished = Atomic<Int>(0)
    /// Workers blocked (or about to block) on `condition`.
    private let sleepers = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)

    // Current job; written by the caller before publishing a generation (release store on
    // `state`), read by workers only after they took a chunk of that generation.
    private var body: ((Range<Int>) -> Void)?
    private var total = 0
    private var count = 0
    private var chunkSize = 1

    /// Held by the thread running a `parallelFor`, so concurrent callers take turns.
    private let callerMutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var threads: [pthread_t] = []

    /// Spin iterations (each a `pause`, 25 ns on a 2-vCPU AMD EPYC, Zen 4) before a worker
    /// sleeps: ~200 us, longer than the serial stretches of a decode step, so the worker is awake
    /// for the next split (with 2000, ~50 us, a 16-sequence step woke it ~9 times; 1-stream engine
    /// median +12% with 8000).
    private static let spinIterations = 8000
    /// Spin iterations (~10 us) before a waiting worker starts giving way: after them, one look in
    /// four is a `sched_yield` (~0.5 us on a 2-vCPU AMD EPYC, Zen 5, with nothing else to run,
    /// counted as 20 iterations).
    /// A spinning thread holds its CPU, and a thread that shares it (the server's event loop, a
    /// client on the same machine) waits to be switched in; a yield lets it run in time the worker
    /// would spin away. Measured over HTTP, 16 streams (alternating servers, 30 rounds):
    /// tokens/s +2.1% and +2.5% with a yield every 32 looks from the start, +2.1% more every 4;
    /// starting after 400 looks as good, and neutral at 1 stream (where the waits between the
    /// matrices of a pass are short and a late worker would slow it).
    private static let pureSpinIterations = 400

    /// Number of online CPUs.
    public static var coreCount: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// A process-wide pool with one thread per core, created on first use.
    public static let shared = ThreadPool()

    /// - Parameter threadCount: threads taking part (>= 1), default one per core. 1 = no threads.
    public init(threadCount: Int = ThreadPool.coreCount) {
        precondition(threadCount >= 1, "threadCount must be >= 1")
        self.threadCount = threadCount
        pthread_mutex_init(mutex, nil)
        pthread_mutex_init(callerMutex, nil)
        pthread_cond_init(condition, nil)
        for _ in 1..<threadCount {
            threads.append(Self.startThread(self))
        }
    }

    /// The pool's own threads (the caller of `parallelFor` is not among them), for pinning.
    public var workerThreads: [pthread_t] { threads }

    deinit {
        stopping.store(true, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        // Bump the generation so spinners notice too.
        state.wrappingAdd(1 << 32, ordering: .sequentiallyConsistent)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
        for thread in threads { pthread_join(thread, nil) }
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        pthread_mutex_destroy(callerMutex)
        mutex.deallocate()
        callerMutex.deallocate()
        condition.deallocate()
    }

    /// Runs `body` over `0..<n` split into contiguous ranges, in parallel; returns when all are done.
    ///
    /// - Parameters:
    ///   - n: number of items.
    ///   - grain: minimum items per range (ranges are multiples of it, except the last).
    ///   - overlapping: run by the calling thread once the workers can start, before it takes
    ///     chunks itself (serial work of the caller's that overlaps theirs; the chunks it would
    ///     have taken meanwhile go to them).
    ///   - body: called once per range, possibly on several threads at once.
    public func parallelFor(_ n: Int, grain: Int = 1, overlapping: (() -> Void)? = nil, _ body: (Range<Int>) -> Void) {
        guard n > 0 else {
            overlapping?()
            return
        }
        let grain = max(1, grain)
        let grains = (n + grain - 1) / grain
        // A few chunks per thread, for balance when a core is shared with other work.
        let chunks = min(grains, threadCount == 1 ? 1 : threadCount * 4)
        if chunks == 1 {
            overlapping?()
            body(0..<n)
            return
        }
        pthread_mutex_lock(callerMutex)
        defer { pthread_mutex_unlock(callerMutex) }
        withoutActuallyEscaping(body) { body in
            self.body = body
            self.total = n
            self.count = chunks
            self.chunkSize = ((grains + chunks - 1) / chunks) * grain
            finished.store(0, ordering: .relaxed)
            let generation = (state.load(ordering: .relaxed) >> 32) + 1
            state.store(generation << 32 | chunks, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(condition)
                pthread_mutex_unlock(mutex)
            }
            overlapping?()
            runChunks(generation: generation)
            var spins = 0
            while finished.load(ordering: .acquiring) != chunks {
                spins += 1
                if spins < 100_000 { dlcm_cpu_relax() } else { sched_yield() }
            }
            self.body = nil
        }
    }

    /// Takes and runs chunks of `generation` until none are left.
    private func runChunks(generation: Int) {
        while true {
            let s = state.load(ordering: .acquiring)
            let remaining = s & 0xFFFF_FFFF
            guard s >> 32 == generation, remaining > 0 else { return }
            guard state.compareExchange(
                expected: s, desired: s - 1, ordering: .acquiringAndReleasing
            ).exchanged else { continue }
            let index = count - remaining
            let start = index * chunkSize
            let end = min(total, start + chunkSize)
            if start < end { body!(start..<end) }
            finished.wrappingAdd(1, ordering: .releasing)
        }
    }

    fileprivate func workerLoop() {
        // Generation 0 is the one at construction; a thread that starts late must still see
        // every later generation (including the one `deinit` publishes) as new.
        var seen = 0
        while true {
            var spins = 0, looks = 0
            while state.load(ordering: .acquiring) >> 32 == seen && spins < Self.spinIterations {
                looks += 1
                if spins < Self.pureSpinIterations || looks % 4 != 0 {
                    dlcm_cpu_relax()
                    spins += 1
                } else {
                    sched_yield()
                    spins += 20
                }
            }
            if state.load(ordering: .acquiring) >> 32 == seen {
                pthread_mutex_lock(mutex)
                sleepers.wrappingAdd(1, ordering: .sequentiallyConsistent)
                while state.load(ordering: .sequentiallyConsistent) >> 32 == seen {
                    pthread_cond_wait(condition, mutex)
                }
                sleepers.wrappingSubtract(1, ordering: .sequentiallyConsistent)
                pthread_mutex_unlock(mutex)
            }
            if stopping.load(ordering: .acquiring) { return }
            seen = state.load(ordering: .acquiring) >> 32
            runChunks(generation: seen)
        }
    }

    /// Starts a worker thread. It holds the pool unretained: `deinit` is what stops and joins
    /// the workers, so they must not keep the pool alive.
    private static func startThread(_ pool: ThreadPool) -> pthread_t {
        final class Worker: ThreadMain {
            unowned(unsafe) let pool: ThreadPool
            init(_ pool: ThreadPool) { self.pool = pool }
            func threadMain() { pool.workerLoop() }
        }
        do {
            return try SystemThread.startThread(Worker(pool), stackSize: 8 << 20)
        } catch {
            preconditionFailure("\(error)")
        }
    }
}
