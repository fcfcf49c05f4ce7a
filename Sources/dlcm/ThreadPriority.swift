import DLCMEngine
import Kernels
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Names the server's threads (`dlcm-engine`, `dlcm-compute1`..., `dlcm-loop`: what top -H,
/// perf and /proc show) and runs the compute threads at a higher nice value than the event loop.
///
/// Why: the loop shares a CPU with a compute thread that is always runnable during a step. At
/// equal priority the scheduler lets the running thread finish its time slice before a woken
/// loop gets the CPU, so a request that arrived, or a response that could leave, waited behind
/// the model. Measured on 2 vCPUs, 16 streams over HTTP (run delay from /proc schedstat, compute
/// threads switched between runs on one server): the loop waited 146-156 us per wake-up for its
/// CPU at nice 0, 62-87 us at 5, 60-68 at 10 (53 with SCHED_IDLE), and the share of the batch's
/// slots that made a token went from 0.96-0.99 to 0.99 (a slot stays empty from one request's end
/// until the next one's start). Against other processes on the machine the model then gets a
/// smaller share of a contended CPU; 0 keeps it equal.
enum ThreadPriority {
    /// `dlcm serve`'s default (`--compute-nice`).
    static let defaultComputeNice = 5

    /// Names the threads and sets the compute threads' nice value (0: names only). Returns what
    /// was done, for the startup log.
    static func apply(engine: Engine, loop: pthread_t?, computeNice: Int) -> String {
        #if os(Linux)
        let compute = engine.computeThreads
        var names: [String] = []
        for (i, thread) in compute.enumerated() {
            let name = i == 0 ? "dlcm-engine" : "dlcm-compute\(i)"
            ThreadName.set(thread, name)
            names.append(name)
        }
        if let loop { ThreadName.set(loop, "dlcm-loop") }
        guard computeNice != 0 else { return "0" }
        // setpriority needs kernel thread ids, which pthread_t does not give: find the threads
        // by the names just set.
        let tids = threadIDs(named: Set(names))
        var ok = tids.count == names.count
        for tid in tids {
            ok = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(tid), Int32(computeNice)) == 0 && ok
        }
        return ok ? String(computeNice) : "0 (refused)"
        #else
        return "0"
        #endif
    }

    /// Kernel ids of this process's threads whose name is in `names`.
    static func threadIDs(named names: Set<String>) -> [Int] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.compactMap { entry -> Int? in
            guard let tid = Int(entry),
                  let comm = try? String(contentsOfFile: "/proc/self/task/\(entry)/comm", encoding: .utf8),
                  names.contains(comm.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
            return tid
        }
    }
}
