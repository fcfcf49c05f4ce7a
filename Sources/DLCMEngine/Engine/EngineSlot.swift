import DLCMRuntime

/// Where a sequence is in its life inside the engine.
///
///     waiting --admit--> prefilling --prompt read--> choosing --token--> decoding --fed--+
///        |                   |                       ^   |                  |          |
///        |                   |                       |   +-- final token ---|---> done |
///        |                   +-- max_tokens 0 -------|----------------------|---> done |
///        |                                           +----------------------|----------+
///        +-- cancel, deadline, engine stop, error (from any phase) ---------+---> done
///
/// A follower (another of the n choices of a prompt) waits attached to its leader and enters
/// `choosing` directly when the leader has read the prompt and it forks the leader's sequence.
enum SlotPhase {
    /// Queued, or attached to the leader that reads its prompt. No caches yet.
    case waiting
    /// Admitted, with caches; `read` prompt tokens have gone through the model.
    case prefilling(read: Int)
    /// Within a step: everything up to now has gone through the model and the next token is
    /// being picked from this step's logits (next: `decoding`, or `done` on a final token).
    case choosing
    /// `next` is the chosen token, fed with the next step. With `reportConcepts`, `held` is the
    /// same token, whose event waits until that step says whether it started a concept.
    case decoding(next: Int32, held: GeneratedToken?)
    /// Reported finished or failed (once: a follower can be reached twice, itself and via its
    /// leader); caches released.
    case done
}

/// One sequence inside the engine: its model state, its text state and its phase. Touched only
/// by the engine thread.
final class EngineSlot {
    let request: EngineRequest
    var generation: Generation
    var phase = SlotPhase.waiting
    /// The caches: allocated on admission (or a fork), released when it leaves. nil while waiting
    /// and once done.
    var sequence: (any EngineSequence)?
    var promptProbs: [Float] = []
    var promptBoundaries: [Bool] = []
    var promptLogprobs: [TokenLogprobs?] = []
    var completionConcepts = 0
    /// Prompt tokens resumed from the prefix cache.
    var cachedTokens = 0
    /// The prefix-cache block that ends where this slot's prompt has been read (nil: none yet,
    /// or the chain broke by an eviction, after which it adds no more blocks).
    var cacheChainEnd: Int?
    /// Whether its prompt blocks may be added to the prefix cache (false once a block could not be).
    var cacheInserting = true
    /// Where the sequence stood before this step's prompt chunk.
    var markBeforeChunk: StateMark?
    var lastTokenAt: UInt64?
    /// Sequences of the same submission with the same prompt: they wait, attached here, while
    /// this one reads the prompt, then fork its sequence (the prompt is read once for all n).
    var followers: [EngineSlot] = []
    /// Set while attached to a leader's `followers`.
    weak var leader: EngineSlot?

    init(request: EngineRequest, generation: Generation) {
        self.request = request
        self.generation = generation
    }

    var done: Bool {
        if case .done = phase { return true }
        return false
    }

    /// The held token's event, if one waits for its boundary.
    var heldToken: GeneratedToken? {
        if case .decoding(_, let held) = phase { return held }
        return nil
    }

    /// How scheduling sees a running slot.
    var planSlot: StepPlan.Slot {
        switch phase {
        case .prefilling(let read): .prefilling(read: read, prompt: request.prompt.count)
        case .decoding: .decoding
        case .waiting, .choosing, .done: preconditionFailure("between steps, a running slot is prefilling or decoding")
        }
    }

    var stats: GenerationStats {
        GenerationStats(promptTokens: request.prompt.count, completionTokens: generation.generated.count,
                        promptConcepts: promptBoundaries.reduce(0) { $0 + ($1 ? 1 : 0) },
                        completionConcepts: completionConcepts, cachedTokens: cachedTokens)
    }
}
