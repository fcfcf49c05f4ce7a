import Locking
/// Counters the engine thread updates once per step or per event; readers take a snapshot.
public struct EngineMetricsSnapshot: Sendable {
    /// Sequences submitted and not yet admitted to the batch.
    public var waiting = 0
    /// Sequences in the batch (prefilling or decoding).
    public var running = 0
    public var kvCacheBytes = 0
    /// Prefix cache (PrefixCache.swift): bytes and blocks held, prompt tokens of requests that
    /// looked in it and those resumed from it, blocks evicted.
    public var prefixCacheBytes = 0
    public var prefixCacheEntries = 0
    public var prefixCacheQueriedTokens: UInt64 = 0
    public var prefixCacheHitTokens: UInt64 = 0
    public var prefixCacheEvictions: UInt64 = 0
    /// Ended answers waiting for an idle engine to be read into the prefix cache.
    public var pendingAnswerFills = 0
    public var promptTokens: UInt64 = 0
    public var generatedTokens: UInt64 = 0
    /// Concepts closed by the router (prompt and generated tokens).
    public var conceptsEmitted: UInt64 = 0
    public var cancelled: UInt64 = 0
    public var timedOut: UInt64 = 0
    public var finished: UInt64 = 0
    public var steps: UInt64 = 0
    /// Sequences per forward pass.
    public var batchSize = Histogram(bounds: [1, 2, 4, 8, 16, 32, 64, 128])
    /// Tokens per concept of each finished sequence.
    public var tokensPerConcept = Histogram(bounds: [1, 1.5, 2, 3, 4, 6, 8, 12, 16, 32])
    /// Submission to first generated token.
    public var timeToFirstToken = Histogram(bounds: Histogram.latency)
    /// Between consecutive tokens of one sequence.
    public var interTokenLatency = Histogram(bounds: Histogram.latency)
    /// One forward pass.
    public var stepDuration = Histogram(bounds: Histogram.latency)
}

/// Thread-safe holder of the snapshot (a tiny lock: the engine holds it for a few additions).
public final class EngineMetrics: Sendable {
    private let state = Locked(EngineMetricsSnapshot())

    public var snapshot: EngineMetricsSnapshot { state.withLock { $0 } }

    func update(_ body: (inout EngineMetricsSnapshot) -> Void) { state.withLock { body(&$0) } }
}
