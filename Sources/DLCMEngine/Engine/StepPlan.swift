/// What one engine step does, decided from the slots' phases alone: which waiting groups join
/// the batch, which sequences feed their chosen token, which read how much of their prompt, and
/// which must wait. Plain data, made without a model, so the scheduling rules are tested as such
/// (`DLCMEngineTests`); `Engine.step()` makes one and then carries it out.
struct StepPlan: Equatable {
    /// A running sequence as scheduling sees it.
    enum Slot: Equatable {
        /// `read` of its `prompt` tokens have gone through the model.
        case prefilling(read: Int, prompt: Int)
        /// Has a chosen token to feed.
        case decoding
    }

    /// `count` prompt tokens of running slot `slot`, from token `from`.
    struct Chunk: Equatable {
        var slot: Int
        var from: Int
        var count: Int
    }

    /// Waiting groups (a leader and its followers) that join the batch, from the queue's front.
    /// They are appended to the running list in order, reading their prompts from token 0.
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

    /// The plan for one step.
    /// - Parameters:
    ///   - running: each running slot's state and the seats its group holds (1 + followers).
    ///   - waiting: each waiting group's prompt length and seats, in queue order.
    ///   - maxRunning: seats in the batch.
    ///   - prefillChunk: prompt tokens read per step over all prompts, so that running streams
    ///     keep flowing during long prompts; a burst of short prompts is read in one step.
    static func make(running: [(slot: Slot, seats: Int)], waiting: [(prompt: Int, seats: Int)],
                     maxRunning: Int, prefillChunk: Int) -> StepPlan {
        var plan = StepPlan()
        plan.admit = admissions(occupied: running.reduce(0) { $0 + $1.seats }, waiting: waiting.map(\.seats),
                                maxRunning: maxRunning)
        let slots = running.map(\.slot) + waiting.prefix(plan.admit).map { Slot.prefilling(read: 0, prompt: $0.prompt) }
        var budget = prefillChunk
        for (i, slot) in slots.enumerated() {
            switch slot {
            case .decoding:
                plan.decode.append(i)
            case .prefilling(let read, let prompt) where read < prompt:
                if budget > 0 {
                    let n = min(budget, prompt - read)
                    plan.prefill.append(Chunk(slot: i, from: read, count: n))
                    budget -= n
                } else {
                    plan.stalled.append(i)
                }
            case .prefilling:
                break   // read, waiting for its first token: cannot happen between steps
            }
        }
        return plan
    }
}
