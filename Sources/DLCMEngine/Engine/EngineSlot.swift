import DLCMRuntime

/// One sequence inside the engine: its model state, its text state and how far it has got.
/// Touched only by the engine thread.
final class EngineSlot {
    let request: EngineRequest
    var generation: Generation
    /// Allocated on admission to the batch, released (caches freed) when it leaves.
    var sequence: SequenceState?
    /// Prompt tokens read so far.
    var prefilled = 0
    /// The sampled token to feed in the next step.
    var pendingToken: Int32?
    /// With `reportConcepts`: the token fed this step, emitted once its boundary is known.
    var heldToken: GeneratedToken?
    var promptProbs: [Float] = []
    var promptBoundaries: [Bool] = []
    var promptLogprobs: [TokenLogprobs?] = []
    var completionConcepts = 0
    var lastTokenAt: UInt64?
    /// Sequences of the same submission with the same prompt: they wait, attached here, while
    /// this one reads the prompt, then fork its sequence (the prompt is read once for all n).
    var followers: [EngineSlot] = []
    /// Set while attached to a leader's `followers`.
    weak var leader: EngineSlot?
    /// Reported finished or failed (a follower can be reached twice: itself, and via its leader).
    var done = false

    init(request: EngineRequest, generation: Generation) {
        self.request = request
        self.generation = generation
    }

    var prefilling: Bool { prefilled < request.prompt.count }

    var stats: GenerationStats {
        GenerationStats(promptTokens: request.prompt.count, completionTokens: generation.generated.count,
                        promptConcepts: promptBoundaries.reduce(0) { $0 + ($1 ? 1 : 0) },
                        completionConcepts: completionConcepts)
    }
}
