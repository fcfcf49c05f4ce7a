import DLCMEngine
import Kernels
#if canImport(Glibc)
import Glibc
#endif

/// Where the server's threads run. Left alone, Linux wakes the event loop on its waker's CPU
/// (the engine thread's), so each token's write (and the loopback TCP work it does) preempted
/// the thread that the whole step waits for. Measured on 2 vCPUs (bench/serve_bench.sh, A/B
/// against an unpinned server, 6-10 alternating rounds each):
/// - fewer compute threads than CPUs: compute on the first CPUs, the loop on the others
///   (--threads 1, 1 stream: 2.9-3.5k -> 4.1-4.8k tokens/s);
/// - as many as CPUs: each compute thread on a CPU of its own, the engine thread first, and the
///   loop with the last pool worker: the loop's writes then fall on a worker (whose share of a
///   step is handed out in chunks and can be taken over) and mostly while it waits for the
///   engine thread's serial part (picking tokens, sending events): 16 streams +7-9% (median
///   and best), 1 stream +5-9%, 4 streams even. The loop on the engine's CPU instead: -17-20%.
/// More threads than CPUs: nothing is pinned.
struct ThreadPlacement {
    /// CPUs of each compute thread (the engine thread first, then the pool's workers), and the loop's.
    let compute: [[Int]]
    let loop: [Int]

    /// Nil when nothing should be pinned.
    static func plan(threads: Int, cpus: [Int]) -> ThreadPlacement? {
        guard threads >= 1, threads <= cpus.count, cpus.count >= 2 else { return nil }
        if threads < cpus.count {
            let mine = Array(cpus.prefix(threads))
            return ThreadPlacement(compute: Array(repeating: mine, count: threads), loop: Array(cpus.dropFirst(threads)))
        }
        return ThreadPlacement(compute: cpus.map { [$0] }, loop: [cpus[cpus.count - 1]])
    }

    /// Pins the engine's compute threads, and the loop when given. Returns what was done, for logs.
    static func apply(engine: Engine, loop: pthread_t?, threads: Int) -> String {
        guard let plan = plan(threads: threads, cpus: CPUAffinity.available()) else { return "shared" }
        let computeThreads = engine.computeThreads
        var ok = computeThreads.count == plan.compute.count
        for (thread, cpus) in zip(computeThreads, plan.compute) { ok = CPUAffinity.pin(thread, to: cpus) && ok }
        if let loop { ok = CPUAffinity.pin(loop, to: plan.loop) && ok }
        func list(_ c: [Int]) -> String { c.map(String.init).joined(separator: ",") }
        let described = "compute \(plan.compute.map(list).joined(separator: "/"))" + (loop == nil ? "" : ", loop \(list(plan.loop))")
        return ok ? described : "shared (pinning refused)"
    }
}
