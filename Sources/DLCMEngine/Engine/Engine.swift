import Locking
import Dispatch
import DLCMRuntime
import Kernels
import Synchronization
import Tokenization
import MonotonicTime
import SystemThread
#if canImport(Glibc)
import Glibc
#endif

public struct EngineConfiguration: Sendable {
    /// Sequences in the batch at once (prefilling or decoding).
    public var maxRunning = 16
    /// Sequences that may wait for a batch slot; beyond it, `submit` throws `queueFull`. The n
    /// sequences of one prompt join the batch together (even past maxRunning when it is empty).
    public var maxWaiting = 64
    /// Prompt tokens read per step, over all prompts being read: bounded so that running streams
    /// keep flowing during long prompts. Also the grid prompts are read on (a chunk never crosses
    /// a multiple of it) and the prefix cache's block length.
    public var prefillChunk = 128
    /// Each step takes at least this long (0 = as fast as the model goes). Throttles the engine;
    /// tests use it to keep requests in flight long enough to cancel or crowd them.
    public var minimumStepSeconds: Double = 0
    /// Out of work, the engine thread looks for new requests this long (seconds) before it
    /// sleeps: a client that sends its next request as soon as a stream ends (an agent loop, a
    /// benchmark) is picked up without a cross-CPU thread wake-up. Measured on one stream of
    /// back-to-back requests: median time to first token 1.5 -> 1.3 ms, +4-5% tokens/s.
    public var idleSpinSeconds: Double = 0.002
    /// Out of work this long (seconds) after some, the engine thread gives the process's free
    /// heap back to the kernel (`HeapTuning.releaseFreed`): a burst of large answers otherwise
    /// leaves hundreds of MiB resident (`deploy/measure-rss.sh`). nil: never.
    public var releaseHeapAfterIdleSeconds: Double? = 1
    /// Bytes of prompt states the prefix cache may keep (PrefixCache.swift); 0 turns it off.
    public var prefixCacheBytes = EngineConfiguration.defaultPrefixCacheBytes
    public static let defaultPrefixCacheBytes = 64 << 20

    public init(maxRunning: Int = 16, maxWaiting: Int = 64, prefillChunk: Int = 128, minimumStepSeconds: Double = 0,
                idleSpinSeconds: Double = 0.002, prefixCacheBytes: Int = EngineConfiguration.defaultPrefixCacheBytes) {
        self.maxRunning = maxRunning; self.maxWaiting = maxWaiting; self.prefillChunk = prefillChunk
        self.minimumStepSeconds = minimumStepSeconds; self.idleSpinSeconds = idleSpinSeconds
        self.prefixCacheBytes = prefixCacheBytes
    }
}

/// Continuous batching over one model on one dedicated thread (never the Swift cooperative pool:
/// it has one thread per CPU, two on a 2-vCPU host). Each step runs ONE batched forward with a
/// token of every decoding sequence plus prompt chunks (prefillChunk tokens at most); requests
/// join and leave between steps.
///
///     let engine = Engine(bundle: bundle, configuration: .init())
///     try engine.start()
///     try engine.submit([EngineRequest(prompt: ids, parameters: p) { event in ... }])
///     engine.stop()
public final class Engine: @unchecked Sendable {
    public let bundle: ModelBundle
    public let configuration: EngineConfiguration
    public let metrics = EngineMetrics()
    /// What the engine steps: the bundle's model, or a test's fake.
    let stepModel: any EngineModel

    struct Inbox {
        var new: [EngineSlot] = []
        /// Sequences submitted and not yet finished: the queue bound counts these.
        var inSystem = 0
        var stopping = false
    }
    let inbox = Locked(Inbox())
    let wake = DispatchSemaphore(value: 0)
    private let thread = Locked<pthread_t?>(nil)
    /// Liveness: bumped every loop iteration, busy or idle (idle waits are 100 ms at most).
    let heartbeat = Atomic<UInt64>(0)
    let iterations = Atomic<UInt64>(0)

    // Engine-thread state.
    var waiting: [EngineSlot] = []
    var running: [EngineSlot] = []
    let prefixCache: PrefixCache
    /// Internal requests that read ended answers into the prefix cache when the engine is idle.
    var answerFills: [EngineSlot] = []
    /// Token events of the last step not handed to their requests yet (see `deferEvent`).
    var deferredEvents: [(slot: EngineSlot, event: EngineEvent)] = []
    var deliveringEvents: [(slot: EngineSlot, event: EngineEvent)] = []

    public convenience init(bundle: ModelBundle, configuration: EngineConfiguration = EngineConfiguration()) {
        self.init(bundle: bundle, model: bundle.model, configuration: configuration)
    }

    /// An engine that steps `model` in place of the bundle's (tests: a fake model); the bundle
    /// still gives the tokenizer and the config (context length, end-of-text token).
    init(bundle: ModelBundle, model: any EngineModel, configuration: EngineConfiguration) {
        precondition(configuration.maxRunning >= 1 && configuration.maxWaiting >= 0 && configuration.prefillChunk >= 1
                        && configuration.idleSpinSeconds >= 0 && configuration.prefixCacheBytes >= 0,
                     "EngineConfiguration: maxRunning and prefillChunk must be at least 1, maxWaiting, idleSpinSeconds and prefixCacheBytes at least 0")
        prefixCache = PrefixCache(capacityBytes: configuration.prefixCacheBytes, blockTokens: configuration.prefillChunk)
        self.bundle = bundle
        stepModel = model
        self.configuration = configuration
        heartbeat.store(monotonicNanoseconds(), ordering: .relaxed)
    }

    public var model: DLCMModel { bundle.model }
    public var tokenizer: Tokenizer { bundle.tokenizer }

    /// Seconds since the loop last went round (large = stalled).
    public var secondsSinceHeartbeat: Double {
        Double(monotonicNanoseconds() &- heartbeat.load(ordering: .relaxed)) / 1e9
    }
    public var loopIterations: UInt64 { iterations.load(ordering: .relaxed) }

    /// Starts the engine thread.
    public func start() throws {
        try thread.withLock { t in
            precondition(t == nil, "Engine.start() called twice")
            t = try startEngineThread(self)
        }
    }

    /// The threads that run the model: the engine thread and the model's pool workers (empty
    /// before `start()`), for pinning them to CPUs.
    public var computeThreads: [pthread_t] {
        guard let t = thread.withLock({ $0 }) else { return [] }
        return [t] + (stepModel.pool?.workerThreads ?? [])
    }

    /// Queues sequences, all or none (the n choices of one request). Throws `queueFull` at once
    /// when waiting + running would pass maxRunning + maxWaiting.
    public func submit(_ requests: [EngineRequest]) throws {
        let limit = model.config.maxSeqLen
        for r in requests {
            if r.prompt.isEmpty { throw EngineError.emptyPrompt }
            if r.prompt.count > limit { throw EngineError.promptTooLong(tokens: r.prompt.count, limit: limit) }
        }
        let slots = requests.map { r in
            EngineSlot(request: r, generation: Generation(tokenizer: tokenizer, prompt: r.prompt, parameters: r.parameters,
                                                          eotTokenID: model.config.eotTokenID))
        }
        // Same prompt in one submission (n > 1): one leader reads it, the others follow.
        var leaders: [EngineSlot] = []
        for slot in slots {
            if let leader = leaders.first(where: { $0.request.prompt == slot.request.prompt && $0.request.promptLogprobs == slot.request.promptLogprobs }) {
                slot.leader = leader
                leader.followers.append(slot)
            } else {
                leaders.append(slot)
            }
        }
        try inbox.withLock { box in
            if box.stopping { throw EngineError.stopped }
            guard box.inSystem + slots.count <= configuration.maxRunning + configuration.maxWaiting else { throw EngineError.queueFull }
            box.inSystem += slots.count
            box.new += leaders
        }
        metrics.update { $0.waiting += slots.count }
        wake.signal()
    }

    /// Ends every sequence (`cancelled`) and joins the thread. Safe to call more than once.
    public func stop() {
        inbox.withLock { $0.stopping = true }
        wake.signal()
        if let t = thread.withLock({ t -> pthread_t? in defer { t = nil }; return t }) { pthread_join(t, nil) }
    }

    /// The loop: runs until `stop`.
    func run() {
        var idle = IdleHeapRelease(after: configuration.releaseHeapAfterIdleSeconds)
        // Spin for new work only right after a step that ran: an idle engine woken by its 100 ms
        // timeout spun 2 ms each time (2% of a CPU, beside the event loop on a 2-vCPU host).
        var ranLastTurn = false
        while true {
            heartbeat.store(monotonicNanoseconds(), ordering: .relaxed)
            iterations.add(1, ordering: .relaxed)
            let (new, stopping) = inbox.withLock { box -> ([EngineSlot], Bool) in
                defer { box.new = [] }
                return (box.new, box.stopping)
            }
            waiting += new
            if stopping {
                for s in running + waiting { finish(s, .cancelled) }   // followers go with their leader
                return
            }
            let ran = step()
            defer { ranLastTurn = ran }
            if ran {
                idle.worked()
            } else if !(ranLastTurn && spinForWork()) {
                if idle.due(now: monotonicNanoseconds()) { HeapTuning.releaseFreed() }
                _ = wake.wait(timeout: .now() + .milliseconds(100))
            }
        }
    }
}

/// When the engine, idle, should give freed heap back: once per quiet spell that follows work,
/// after `after` seconds of it.
struct IdleHeapRelease {
    let afterNanos: UInt64?
    private var workedSinceRelease = false
    private var idleSince: UInt64?

    init(after seconds: Double?) { afterNanos = seconds.map { UInt64(max(0, $0) * 1e9) } }

    mutating func worked() {
        workedSinceRelease = true
        idleSince = nil
    }

    /// Called on each idle turn; true once, when the quiet spell is long enough.
    mutating func due(now: UInt64) -> Bool {
        guard let afterNanos, workedSinceRelease else { return false }
        let since = idleSince ?? now
        idleSince = since
        guard now &- since >= afterNanos else { return false }
        workedSinceRelease = false
        return true
    }
}

extension Engine {
    /// Polls the inbox for up to `idleSpinSeconds`, yielding the CPU between looks; true once
    /// something arrived (or a stop). A semaphore signal from that submission is left over and
    /// only makes one later wait return at once.
    func spinForWork() -> Bool {
        guard configuration.idleSpinSeconds > 0 else { return false }
        let until = monotonicNanoseconds() + UInt64(configuration.idleSpinSeconds * 1e9)
        repeat {
            if inbox.withLock({ !$0.new.isEmpty || $0.stopping }) { return true }
            sched_yield()
        } while monotonicNanoseconds() < until
        return false
    }
}

private func startEngineThread(_ engine: Engine) throws -> pthread_t {
    final class Loop: ThreadMain {
        let engine: Engine
        init(_ engine: Engine) { self.engine = engine }
        func threadMain() { engine.run() }
    }
    do {
        return try startThread(Loop(engine))
    } catch {
        throw EngineError.stopped
    }
}
