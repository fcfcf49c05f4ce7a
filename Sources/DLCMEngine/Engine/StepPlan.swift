/// What one engine step does, decided from the slots' phases alone: which waiting groups join
/// the batch, which sequences feed their chosen token, which read how much of their prompt, and
/// which must wait. Plain data, made without a model, so the scheduling rules are tested as such
/// (`DLCMEngineTests`); `Engine.step()` makes one and then carries it out.
///
/// Prompts are read on a fixed grid: a chunk never crosses a multiple of `prefillChunk`, so every
/// prompt is read in the same pieces (`[0, G)`, `[G, 2G)`, ... and the rest) whatever else runs
/// beside it and wherever a cached prefix let it start. That is what makes a prompt state taken
/// from the prefix cache continue exactly as the cold read would (PrefixCache.swift): the same
/// tokens go through the same passes.
struct StepPlan: Equatable {
    /// A running sequence as scheduling sees it.
    enum Slot: Equatable {
        /// `read` of its `prompt` tokens have gone through the model.
        case prefilling(read: Int, prompt: Int)
        /// Reading its prompt, but the next grid cell is the one another sequence reads this
        /// step (the same tokens after the same prefix): it waits and takes the result from the
        /// prefix cache next step instead of reading it twice.
        case awaitingShared
        /// Has a chosen token to feed.
        case decoding
    }

    /// A waiting group (a leader and its followers) as admission sees it.
    struct Waiting: Equatable {
        var prompt: Int
        /// 1 + followers.
        var seats: Int
        /// Prompt tokens the prefix cache holds for it (a multiple of the grid): reading starts there.
        var cached = 0
        /// Its first cell to read is one that a sequence before it reads this step.
        var awaitsShared = false
    }

    /// `count` prompt tokens of running slot `slot`, from token `from`.
    struct Chunk: Equatable {
        var slot: Int
        var from: Int
        var count: Int
    }

    /// Waiting groups that join the batch, from the queue's front. They are appended to the
    /// running list in order, reading their prompts from their cached length.
    var admit = 0
    /// Running slots (indices after admission) that feed their chosen token, in running order.
    var decode: [Int] = []
    /// Prompt chunks, oldest prompt first, `prefillChunk` tokens at most in all.
    var prefill: [Chunk] = []
    /// Running slots still reading their prompt that get no tokens this step.
    var stalled: [Int] = []

    /// How many waiting groups (sizes in queue order) join beside the `occupied` seats, first come
    /// first served: each must fit within `maxRunning`, except that an empty batch takes the first
    /// group whatever its size. A group holds all its seats from admission: its followers fork
    /// into sequences of their own once the leader has read the prompt, so counting only running
    /// slots would let several n = 8 groups in at once and the batch past maxRunning after the forks.
    static func admissions(occupied: Int, waiting sizes: [Int], maxRunning: Int) -> Int {
        var taken = occupied, admitted = 0
        for size in sizes {
            guard taken == 0 || taken + size <= maxRunning else { break }
            taken += size
            admitted += 1
        }
        return admitted
    }

    /// The tokens a prompt at `read` reads next: up to the next multiple of `grid`, at most to
    /// its end.
    static func cell(read: Int, prompt: Int, grid: Int) -> Int {
        min(grid - read % grid, prompt - read)
    }

    /// The plan for one step.
    /// - Parameters:
    ///   - running: each running slot's state and the seats its group holds (1 + followers).
    ///   - waiting: the waiting groups, in queue order.
    ///   - maxRunning: seats in the batch.
    ///   - prefillChunk: prompt tokens read per step over all prompts, so that running streams
    ///     keep flowing during long prompts (a burst of short prompts is read in one step); also
    ///     the grid prompts are read on. A prompt whose next cell does not fit what is left of it
    ///     waits for the next step.
    static func make(running: [(slot: Slot, seats: Int)], waiting: [Waiting], maxRunning: Int, prefillChunk: Int) -> StepPlan {
        var plan = StepPlan()
        plan.admit = admissions(occupied: running.reduce(0) { $0 + $1.seats }, waiting: waiting.map(\.seats),
                                maxRunning: maxRunning)
        let slots = running.map(\.slot) + waiting.prefix(plan.admit).map {
            $0.awaitsShared ? Slot.awaitingShared : Slot.prefilling(read: $0.cached, prompt: $0.prompt)
        }
        var budget = prefillChunk
        for (i, slot) in slots.enumerated() {
            switch slot {
            case .decoding:
                plan.decode.append(i)
            case .prefilling(let read, let prompt) where read < prompt:
                let n = cell(read: read, prompt: prompt, grid: prefillChunk)
                if n <= budget {
                    plan.prefill.append(Chunk(slot: i, from: read, count: n))
                    budget -= n
                } else {
                    plan.stalled.append(i)
                }
            case .awaitingShared:
                plan.stalled.append(i)
            case .prefilling:
                break   // read, waiting for its first token: cannot happen between steps
            }
        }
        return plan
    }
}
