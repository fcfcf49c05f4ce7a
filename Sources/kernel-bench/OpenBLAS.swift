#if canImport(Glibc)
import Glibc
#endif

/// OpenBLAS loaded at run time (optional: `apt-get install libopenblas-dev`).
struct OpenBLAS {
    typealias SGEMM = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float,
                                      UnsafePointer<Float>, Int32, UnsafePointer<Float>, Int32,
                                      Float, UnsafeMutablePointer<Float>, Int32) -> Void
    typealias SetThreads = @convention(c) (Int32) -> Void
    typealias GetCore = @convention(c) () -> UnsafePointer<CChar>?

    let sgemmFunction: SGEMM
    let setThreads: SetThreads?
    let coreName: String

    init?() {
        guard let handle = dlopen("libopenblas.so.0", RTLD_NOW) ?? dlopen("libopenblas.so", RTLD_NOW),
              let sgemm = dlsym(handle, "cblas_sgemm") else { return nil }
        sgemmFunction = unsafeBitCast(sgemm, to: SGEMM.self)
        setThreads = dlsym(handle, "openblas_set_num_threads").map { unsafeBitCast($0, to: SetThreads.self) }
        if let f = dlsym(handle, "openblas_get_corename"), let s = unsafeBitCast(f, to: GetCore.self)() {
            coreName = String(cString: s)
        } else {
            coreName = "?"
        }
    }

    /// Y (m, n) = X (m, k) · Wᵀ, W (n, k), all row-major f32.
    func sgemm(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
               m: Int, n: Int, k: Int) {
        // CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112
        sgemmFunction(101, 111, 112, Int32(m), Int32(n), Int32(k), 1, x, Int32(k), w, Int32(k), 0, y, Int32(n))
    }
}
