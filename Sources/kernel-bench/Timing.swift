import MonotonicTime
#if canImport(Glibc)
import Glibc
#endif

/// Monotonic time in seconds.
func now() -> Double { monotonicSeconds() }

/// Best (minimum) seconds per call of `body`, over repeated timed batches lasting ~`budget` s.
func bestTime(budget: Double = 0.3, _ body: () -> Void) -> Double {
    body()  // warm up
    var best = Double.infinity
    let start = now()
    var calls = 0
    repeat {
        let t0 = now()
        body()
        best = min(best, now() - t0)
        calls += 1
    } while now() - start < budget || calls < 3
    return best
}

/// Keeps the optimiser from discarding a result.
@inline(never) func consume(_ x: Float) {
    if x == 1234.5678 { print("") }
}

func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
}

func fmt(_ x: Double, _ decimals: Int = 1) -> String {
    guard x.isFinite else { return "-" }
    var p = 1.0
    for _ in 0..<decimals { p *= 10 }
    let r = (x * p).rounded() / p
    var s = "\(r)"
    if decimals == 0, s.hasSuffix(".0") { s.removeLast(2) }
    return s
}
