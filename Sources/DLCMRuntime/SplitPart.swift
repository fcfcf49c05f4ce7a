import Kernels
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One part of a decode step split over threads (`DLCMModel.split`): whether a thread runs it
/// yet, and its LM head, which threads done with their own parts help with.
final class SplitPart: @unchecked Sendable {
    static let waiting = 0, running = 1, done = 2
    let state = Atomic<Int>(SplitPart.waiting)
    let head = SharedMatmul()

    /// Called by a thread done with its own part: helps the parts other threads are running
    /// with their heads until none is running. Returns at once when none is (a part no thread
    /// has started is left to the pool, which hands it to this thread next).
    static func helpWhileRunning(_ parts: [SplitPart]) {
        while true {
            var anyRunning = false
            for part in parts where part.state.load(ordering: .acquiring) == running {
                anyRunning = true
                part.head.help()
            }
            guard anyRunning else { return }
            // Gives way to a thread sharing this CPU (the event loop) while there is nothing to
            // take; see ThreadPool's spin.
            sched_yield()
        }
    }
}
