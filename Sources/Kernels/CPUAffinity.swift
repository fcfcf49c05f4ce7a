import CKernelSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which CPUs the process may use, and restricting a thread to some of them (Linux; elsewhere
/// `available` is empty and `pin` fails).
///
/// Why the server pins (ServeCommand): the event loop is woken by the engine thread, and Linux
/// tends to wake a thread on its waker's CPU, so the loop (and the loopback TCP work its writes
/// do) kept landing on the compute core. Measured with --threads 1 on 2 CPUs, 1 stream over HTTP:
/// 2.9-3.5k tokens/s unpinned, 4.1-4.8k with compute and loop on different CPUs (in-process 4.5-5.0k).
public enum CPUAffinity {
    /// CPU numbers the process may run on (its affinity mask), ascending.
    public static func available() -> [Int] {
        var cpus = [Int32](repeating: 0, count: 1024)
        let n = dlcm_available_cpus(&cpus, Int32(cpus.count))
        return n > 0 ? cpus.prefix(Int(n)).map(Int.init) : []
    }

    /// Restricts `thread` to `cpus` (the scheduler still moves it among them). False if refused.
    @discardableResult
    public static func pin(_ thread: pthread_t, to cpus: [Int]) -> Bool {
        guard !cpus.isEmpty else { return false }
        let list = cpus.map(Int32.init)
        #if canImport(Glibc)
        return dlcm_pin_thread(UInt(thread), list, Int32(list.count)) == 0
        #else
        return false
        #endif
    }
}

/// Thread names, as top -H, perf and /proc/<pid>/task/<tid>/comm show them (Linux).
public enum ThreadName {
    /// Names `thread` (at most 15 bytes are kept). False if refused or unsupported.
    @discardableResult
    public static func set(_ thread: pthread_t, _ name: String) -> Bool {
        #if canImport(Glibc)
        return dlcm_name_thread(UInt(thread), String(name.utf8.prefix(15))!) == 0
        #else
        return false
        #endif
    }
}
