import MonotonicTime
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The FMA throughput one thread of the machine it runs on reaches: the "peak" that `kernel-bench` and
/// `dlcm bench` report matmul speeds against (118 GFLOP/s on a CPU with one 512-bit FMA a cycle,
/// 243 on one with two; it already includes the clock the core actually runs at).
public enum FMAPeak {
    /// Measured with 24 independent SIMD16 FMA chains, in GFLOP/s (~0.1 s).
    public static func measureGFLOPs() -> Double {
        // Many short runs, best kept: a run that shares its core with another process is discarded.
        let iterations = 200_000
        let data = UnsafeMutablePointer<Float>.allocate(capacity: 32)
        defer { data.deallocate() }
        for i in 0..<32 { data[i] = i < 16 ? 1 + Float(i) * 1e-6 : 1e-7 }
        var best = 0.0
        var sink: Float = 0
        for _ in 0..<40 {
            let t0 = seconds()
            sink += fmaLoop(data, iterations: iterations)
            best = max(best, Double(iterations) * 24 * 32 / (seconds() - t0) / 1e9)
        }
        if sink == 1234.5678 { print("") }   // keeps the loops from being optimised away
        return best
    }

    private static func seconds() -> Double { monotonicSeconds() }

    /// 24 independent FMA chains of `iterations` steps; data: (32) f32.
    @inline(never)
    static func fmaLoop(_ data: UnsafePointer<Float>, iterations: Int) -> Float {
        typealias V = SIMD16<Float>
        let w = UnsafeRawPointer(data).load(as: V.self)
        var a0 = w, a1 = w, a2 = w, a3 = w, a4 = w, a5 = w
        var a6 = w, a7 = w, a8 = w, a9 = w, a10 = w, a11 = w
        var a12 = w, a13 = w, a14 = w, a15 = w, a16 = w, a17 = w
        var a18 = w, a19 = w, a20 = w, a21 = w, a22 = w, a23 = w
        for _ in 0..<iterations {
            let x = UnsafeRawPointer(data + 16).load(as: V.self)
            a0 = a0.addingProduct(x, w); a1 = a1.addingProduct(x, w); a2 = a2.addingProduct(x, w); a3 = a3.addingProduct(x, w)
            a4 = a4.addingProduct(x, w); a5 = a5.addingProduct(x, w); a6 = a6.addingProduct(x, w); a7 = a7.addingProduct(x, w)
            a8 = a8.addingProduct(x, w); a9 = a9.addingProduct(x, w); a10 = a10.addingProduct(x, w); a11 = a11.addingProduct(x, w)
            a12 = a12.addingProduct(x, w); a13 = a13.addingProduct(x, w); a14 = a14.addingProduct(x, w); a15 = a15.addingProduct(x, w)
            a16 = a16.addingProduct(x, w); a17 = a17.addingProduct(x, w); a18 = a18.addingProduct(x, w); a19 = a19.addingProduct(x, w)
            a20 = a20.addingProduct(x, w); a21 = a21.addingProduct(x, w); a22 = a22.addingProduct(x, w); a23 = a23.addingProduct(x, w)
        }
        return (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15 + a16 + a17 + a18 + a19 + a20 + a21 + a22 + a23).sum()
    }
}
