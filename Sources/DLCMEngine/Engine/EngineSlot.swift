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
