import CKernelSupport
import Synchronization

/// A matmul that other threads can join while its owner runs it.
///
/// For work split into parts that each run on one thread from start to end (a DLCM decode step
/// cut into lanes, `DLCMModel.forward`): parts never take the same time (one closed more
/// concepts), and a thread that finished its own part would only wait at the end of the step.
/// The owner of a part publishes its last big product here (the LM head); any thread that has
/// nothing left of its own calls `help()` and takes chunks of its columns too. The owner takes
/// chunks until none are left, then waits for the chunks helpers took.
///
/// One product per object, run once: `run` publishes and finishes it; `help` may be called any
/// number of times from any thread, before, during or after, and does nothing unless chunks are
/// left. Results are the same as `matmul`'s, bit for bit (each column is computed the same way,
/// only by another thread).
public final class SharedMatmul: @unchecked Sendable {
    /// Output columns per chunk (rounded to whole units): for the shipped model's LM head and 8
    /// rows a chunk is ~4 us of work, 16 chunks, small enough to split the last few
    /// microseconds of a part, large enough that claiming one (an atomic add) is noise.
    public static let chunkColumns = 512

    private let published = Atomic<Bool>(false)
    private let claimed = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)

    // The product; written by the owner before `published` is set (release), read by helpers
    // only after they saw it set (acquire).
    private var y: UnsafeMutablePointer<Float>?
    private var x: UnsafePointer<Float>?
    private var w = WeightMatrix(base: UnsafeRawPointer(bitPattern: 1)!, type: .f32, rows: 0, cols: 0)
    private var m = 0
    private var accumulate = false
    private var units = 0
    private var unitsPerChunk = 1
    private var chunks = 0
    /// X prepared for the int8 kernels (`takesInt8(w, m: m)`), owned.
    private var prepared: UnsafeMutableRawPointer?

    public init() {}

    deinit { prepared?.deallocate() }

    /// Y (+)= X · Wᵀ as `matmul` computes it on one thread, with any helpers; returns when all
    /// of Y is written. Call once per object (or `publish` and `finish`).
    public func run(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: WeightMatrix,
                    m: Int, accumulate: Bool = false) {
        publish(y, x, w, m: m, accumulate: accumulate)
        finish()
    }

    /// `run`'s first half: makes the product's chunks available to `help`. Y, X and W must stay
    /// valid until `finish` returns.
    public func publish(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: WeightMatrix,
                        m: Int, accumulate: Bool = false) {
        precondition(!published.load(ordering: .relaxed), "SharedMatmul runs once")
        let (units, columns) = matmulUnits(w, m: m)
        self.y = y; self.x = x; self.w = w; self.m = max(m, 0); self.accumulate = accumulate
        self.units = m > 0 ? units : 0
        if m > 0, takesInt8(w, m: m) {
            // X quantized once, before any thread can take a chunk.
            prepared = UnsafeMutableRawPointer.allocate(byteCount: int8ScratchBytes(w, m: m), alignment: 64)
            prepareInt8(prepared!, x, w, m: m)
        }
        unitsPerChunk = max(1, Self.chunkColumns / columns)
        chunks = (self.units + unitsPerChunk - 1) / unitsPerChunk
        published.store(true, ordering: .releasing)
    }

    /// `run`'s second half: takes the chunks still left, then waits for those helpers took.
    public func finish() {
        help()
        while finished.load(ordering: .acquiring) < chunks { dlcm_cpu_relax() }
    }

    /// Takes and computes chunks while any are left. Returns whether it computed any.
    @discardableResult
    public func help() -> Bool {
        guard published.load(ordering: .acquiring) else { return false }
        var did = false
        while true {
            let chunk = claimed.wrappingAdd(1, ordering: .relaxed).oldValue
            guard chunk < chunks else { return did }
            let first = chunk * unitsPerChunk
            matmulUnitRange(y!, x!, w, m: m, units: first..<min(units, first + unitsPerChunk), accumulate: accumulate,
                            prepared: prepared.map { UnsafeRawPointer($0) })
            finished.wrappingAdd(1, ordering: .releasing)
            did = true
        }
    }

    /// True once published and every chunk was taken (helping can no longer do anything).
    public var isExhausted: Bool {
        published.load(ordering: .acquiring) && claimed.load(ordering: .relaxed) >= chunks
    }
}
