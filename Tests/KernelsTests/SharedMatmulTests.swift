import Kernels
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SharedMatmulTests {
    /// Shapes on each of matmul's paths: matvec (1-2 rows, or 3-4 unpacked), the packed 4-, 8-
    /// and 12-row kernels, N not a multiple of a chunk or a panel, and an LM head's width.
    static let shapes: [(m: Int, k: Int, n: Int)] = [(1, 40, 37), (2, 64, 700), (4, 33, 1030), (8, 128, 2049), (16, 24, 8192), (13, 17, 45)]

    @Test(arguments: [false, true])
    func aloneIsBitIdenticalToMatmul(prepack: Bool) {
        var random = SeededRandom(seed: 21)
        for (m, k, n) in Self.shapes {
            let x = random.array(m * k)
            let weights = EncodedWeights(random.array(n * k), type: .bf16)
            var expected = [Float](repeating: 0, count: m * n), got = [Float](repeating: .nan, count: m * n)
            weights.bytes.withUnsafeBytes { raw in
                let packer = PackedWeights()
                let plain = WeightMatrix(base: raw.baseAddress!, type: .bf16, rows: n, cols: k)
                let w = prepack ? packer.pack(plain) : plain
                matmul(&expected, x, w, m: m)
                let shared = SharedMatmul()
                #expect(!shared.help(), "nothing to help with before run")
                got.withUnsafeMutableBufferPointer { y in
                    x.withUnsafeBufferPointer { xp in shared.run(y.baseAddress!, xp.baseAddress!, w, m: m) }
                }
                #expect(shared.isExhausted)
                #expect(!shared.help(), "nothing left after run")
                withExtendedLifetime(packer) {}
            }
            #expect(mismatch(got, expected, n: n) == nil, "m=\(m) k=\(k) n=\(n) prepack=\(prepack)")
        }
    }

    @Test func accumulates() {
        var random = SeededRandom(seed: 22)
        let (m, k, n) = (8, 32, 1500)
        let x = random.array(m * k), initial = random.array(m * n)
        let weights = EncodedWeights(random.array(n * k), type: .f32)
        var expected = initial, got = initial
        weights.bytes.withUnsafeBytes { raw in
            // The packer owns the packed copy: it must outlive every use of `w`.
            let packer = PackedWeights()
            let w = packer.pack(WeightMatrix(base: raw.baseAddress!, type: .f32, rows: n, cols: k))
            matmul(&expected, x, w, m: m, accumulate: true)
            got.withUnsafeMutableBufferPointer { y in
                x.withUnsafeBufferPointer { xp in SharedMatmul().run(y.baseAddress!, xp.baseAddress!, w, m: m, accumulate: true) }
            }
            withExtendedLifetime(packer) {}
        }
        #expect(mismatch(got, expected, n: n) == nil)
    }

    @Test func aHelperCanTakeEveryChunk() {
        // Published, then a helper on another thread takes all of it before the owner looks:
        // the owner's finish only waits, and every column is what matmul computes.
        let (m, k, n) = (16, 64, 2100)
        withPackedProduct(seed: 23, m: m, k: k, n: n) { x, w, expected in
            var got = [Float](repeating: .nan, count: m * n)
            got.withUnsafeMutableBufferPointer { y in
                x.withUnsafeBufferPointer { xp in
                    let shared = SharedMatmul()
                    shared.publish(y.baseAddress!, xp.baseAddress!, w, m: m)
                    let helperDid = Atomic<Bool>(false)
                    let helper = Thread { helperDid.store(shared.help(), ordering: .relaxed) }
                    helper.join()
                    let did = helperDid.load(ordering: .relaxed)
                    #expect(did)
                    #expect(shared.isExhausted)
                    shared.finish()
                }
            }
            #expect(mismatch(got, expected, n: n) == nil)
        }
    }

    @Test func helpersRacingTheOwnerKeepResultsExact() {
        // A helper thread calls help() in a loop while the owner runs: whoever takes which
        // chunk, every column is what matmul computes.
        let (m, k, n) = (16, 512, 8192)
        withPackedProduct(seed: 24, m: m, k: k, n: n) { x, w, expected in
            for _ in 0..<5 {
                let shared = SharedMatmul()
                let stop = Atomic<Bool>(false)
                let helper = Thread {
                    while !stop.load(ordering: .acquiring) { shared.help() }
                }
                var got = [Float](repeating: .nan, count: m * n)
                got.withUnsafeMutableBufferPointer { y in
                    x.withUnsafeBufferPointer { xp in shared.run(y.baseAddress!, xp.baseAddress!, w, m: m) }
                }
                stop.store(true, ordering: .releasing)
                helper.join()
                #expect(mismatch(got, expected, n: n) == nil)
            }
        }
    }
}

/// Random X (m, k) and a random bf16 W (n, k) packed at load (alive during `body`), with
/// `matmul`'s Y for them.
private func withPackedProduct(seed: UInt64, m: Int, k: Int, n: Int,
                               _ body: (_ x: [Float], _ w: WeightMatrix, _ expected: [Float]) -> Void) {
    var random = SeededRandom(seed: seed)
    let x = random.array(m * k)
    let weights = EncodedWeights(random.array(n * k), type: .bf16)
    weights.bytes.withUnsafeBytes { raw in
        let packer = PackedWeights()
        let w = packer.pack(WeightMatrix(base: raw.baseAddress!, type: .bf16, rows: n, cols: k))
        var expected = [Float](repeating: 0, count: m * n)
        matmul(&expected, x, w, m: m)
        body(x, w, expected)
        withExtendedLifetime(packer) {}
    }
}

/// Where two outputs of n columns first differ, with how many elements differ (nil: equal).
/// (An `==` expectation on arrays this large makes the failure message diff them for minutes.)
private func mismatch(_ a: [Float], _ b: [Float], n: Int) -> String? {
    let bad = a.indices.filter { a[$0] != b[$0] || a[$0].isNaN }
    guard let first = bad.first else { return nil }
    return "\(bad.count) of \(a.count) differ; first row \(first / n) col \(first % n): \(a[first]) vs \(b[first])"
}

/// A plain pthread running a closure, joined by `join`.
private final class Thread: @unchecked Sendable {
    private var thread = pthread_t()
    private let body: () -> Void

    init(_ body: @escaping () -> Void) {
        self.body = body
        let context = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&thread, nil, { context in
            let me = Unmanaged<Thread>.fromOpaque(context!).takeRetainedValue()
            me.body()
            return nil
        }, context)
    }

    func join() { pthread_join(thread, nil) }
}
