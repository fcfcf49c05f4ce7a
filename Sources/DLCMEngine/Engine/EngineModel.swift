import DLCMRuntime
import Kernels

/// What the engine needs of a model: sequences that hold caches, and one batched pass over them.
/// `DLCMModel` is the model served; `Tests/DLCMEngineTests` drives the engine with a fake one
/// (scripted tokens and boundaries, failing passes) to test scheduling without a checkpoint.
protocol EngineModel: AnyObject {
    /// Threads the engine may spread per-sequence work over (picking tokens); nil: its own only.
    var pool: ThreadPool? { get }
    /// A sequence with empty caches.
    func makeSequence() -> any EngineSequence
    /// Advances every item's sequence by its tokens and returns one output per item, in order.
    /// `overlapping` runs once on the calling thread, while the pass's other threads work.
    func step(_ items: [EngineBatchItem], overlapping: @escaping () -> Void) throws -> [ForwardOutput]
}

/// One sequence's caches, as the engine handles them.
protocol EngineSequence: AnyObject {
    /// Tokens consumed so far.
    var length: Int { get }
    /// Concepts completed so far.
    var conceptCount: Int { get }
    /// Bytes held by the caches.
    var memoryBytes: Int { get }
    /// Makes room for `tokens` positions at once (the final length, when known).
    func reserve(tokens: Int)
    /// A copy that continues on its own (the n choices of a prompt read it once).
    func forked() -> any EngineSequence
    /// Tokens read and concepts completed now.
    var mark: StateMark { get }
    /// What the passes since `mark` added, for the prefix cache.
    func captureBlock(since mark: StateMark) -> any PrefixPayload
    /// Continues with a block another sequence of the same model captured where this one stands.
    func append(_ block: any PrefixPayload)
}

/// Tokens for one sequence in a pass.
struct EngineBatchItem {
    let sequence: any EngineSequence
    let tokens: [Int32]
    /// Logits for every token (prompt scoring), not only the last.
    var allLogits = false
}

extension SequenceState: EngineSequence {
    func forked() -> any EngineSequence { fork() }
    func captureBlock(since mark: StateMark) -> any PrefixPayload { captureBlock(since: mark) as StateBlock }
    func append(_ block: any PrefixPayload) { append(block as! StateBlock) }
}

extension StateBlock: PrefixPayload {}

extension DLCMModel: EngineModel {
    func makeSequence() -> any EngineSequence { newSequence() }

    func step(_ items: [EngineBatchItem], overlapping: @escaping () -> Void) throws -> [ForwardOutput] {
        // Every sequence this engine holds came from `makeSequence` above.
        try forward(items.map { BatchItem(sequence: $0.sequence as! SequenceState, tokens: $0.tokens, allLogits: $0.allLogits) },
                    overlapping: overlapping)
    }
}
