import Testing
@testable import DLCMEngine

/// The scheduling rules of one engine step, as data: no model, no threads.
@Suite struct StepPlanTests {
    typealias Slot = StepPlan.Slot
    typealias Chunk = StepPlan.Chunk

    func plan(_ running: [(Slot, Int)] = [], waiting: [(Int, Int)] = [], maxRunning: Int = 16, chunk: Int = 128) -> StepPlan {
        StepPlan.make(running: running.map { (slot: $0.0, seats: $0.1) }, waiting: waiting.map { StepPlan.Waiting(prompt: $0.0, seats: $0.1) },
                      maxRunning: maxRunning, prefillChunk: chunk)
    }

    @Test func groupsFitBesideTheSeatsTaken() {
        #expect(StepPlan.admissions(occupied: 0, waiting: [8, 8, 8], maxRunning: 16) == 2)
        #expect(StepPlan.admissions(occupied: 8, waiting: [8, 8], maxRunning: 16) == 1)
        #expect(StepPlan.admissions(occupied: 9, waiting: [8, 1], maxRunning: 16) == 0)   // first come, first served
        #expect(StepPlan.admissions(occupied: 0, waiting: [20, 1], maxRunning: 16) == 1)  // an empty batch takes any group
        #expect(StepPlan.admissions(occupied: 3, waiting: [1, 1, 1, 1], maxRunning: 5) == 2)
        #expect(StepPlan.admissions(occupied: 0, waiting: [], maxRunning: 16) == 0)
    }

    @Test func nothingToDo() {
        #expect(plan() == StepPlan())
    }

    /// Decoding sequences feed a token each; admitted prompts are read after them, in one step
    /// when they fit the chunk.
    @Test func decodesThenAdmittedPrompts() {
        let p = plan([(.decoding, 1), (.decoding, 1)], waiting: [(5, 1), (7, 1)])
        #expect(p.admit == 2)
        #expect(p.decode == [0, 1])
        #expect(p.prefill == [Chunk(slot: 2, from: 0, count: 5), Chunk(slot: 3, from: 0, count: 7)])
        #expect(p.stalled.isEmpty)
    }

    /// A long prompt is read a chunk per step while the others keep decoding, and the prompt
    /// behind it waits for the budget (told so: `stalled`).
    @Test func prefillBudgetIsSharedOldestFirst() {
        let p = plan([(.prefilling(read: 128, prompt: 300), 1), (.decoding, 1), (.prefilling(read: 0, prompt: 10), 1)], chunk: 128)
        #expect(p.decode == [1])
        #expect(p.prefill == [Chunk(slot: 0, from: 128, count: 128)])
        #expect(p.stalled == [2])
        // A chunk never crosses the grid: the second prompt's first cell (128) does not fit the
        // 118 left, so it waits for the next step rather than read a cell cut short.
        let q = plan([(.prefilling(read: 290, prompt: 300), 1), (.prefilling(read: 0, prompt: 200), 1)], chunk: 128)
        #expect(q.prefill == [Chunk(slot: 0, from: 290, count: 10)])
        #expect(q.stalled == [1])
        let r = plan([(.prefilling(read: 100, prompt: 300), 1), (.prefilling(read: 0, prompt: 20), 1)], chunk: 128)
        #expect(r.prefill == [Chunk(slot: 0, from: 100, count: 28), Chunk(slot: 1, from: 0, count: 20)])
    }

    /// Prompts are read in the cells of the grid whatever runs beside them, and a prompt resumed
    /// from the prefix cache starts at its cached length.
    @Test func promptsAreReadOnTheGrid() {
        let p = StepPlan.make(running: [], waiting: [StepPlan.Waiting(prompt: 300, seats: 1, cached: 256)], maxRunning: 4, prefillChunk: 128)
        #expect(p.admit == 1)
        #expect(p.prefill == [Chunk(slot: 0, from: 256, count: 44)])
        #expect(StepPlan.cell(read: 130, prompt: 1000, grid: 128) == 126)
        #expect(StepPlan.cell(read: 256, prompt: 260, grid: 128) == 4)
    }

    /// A slot whose next cell another reads this step waits (told so), and so does an admitted
    /// group that would read the same first cell as one before it.
    @Test func aSharedCellIsReadOnce() {
        let p = StepPlan.make(running: [(.prefilling(read: 0, prompt: 300), 1), (.awaitingShared, 1)],
                              waiting: [StepPlan.Waiting(prompt: 300, seats: 1, awaitsShared: true), StepPlan.Waiting(prompt: 40, seats: 1)],
                              maxRunning: 8, prefillChunk: 256)
        #expect(p.admit == 2)
        #expect(p.prefill == [Chunk(slot: 0, from: 0, count: 256)])
        #expect(p.stalled == [1, 2, 3])
    }

    /// A group holds all its seats (its followers fork later): a full batch admits nobody, and a
    /// waiting group too big for what is left blocks the ones behind it.
    @Test func groupsHoldTheirSeats() {
        let full = plan([(.prefilling(read: 0, prompt: 9), 8)], waiting: [(3, 1)], maxRunning: 8)
        #expect(full.admit == 0)
        #expect(full.prefill == [Chunk(slot: 0, from: 0, count: 9)])
        let blocked = plan([(.decoding, 4)], waiting: [(3, 8), (3, 1)], maxRunning: 8)
        #expect(blocked.admit == 0)
        let empty = plan(waiting: [(3, 20), (3, 1)], maxRunning: 8)
        #expect(empty.admit == 1)
        #expect(empty.prefill == [Chunk(slot: 0, from: 0, count: 3)])
    }

    /// A plan never reads more prompt tokens than the chunk, never past a prompt's end, and
    /// names every running or admitted slot at most once.
    @Test func randomPlansKeepTheirBounds() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let running: [(Slot, Int)] = (0..<Int.random(in: 0...6, using: &rng)).map { _ in
                let prompt = Int.random(in: 1...400, using: &rng)
                let slot: Slot = Bool.random(using: &rng) ? .decoding : .prefilling(read: Int.random(in: 0..<prompt, using: &rng), prompt: prompt)
                return (slot, Int.random(in: 1...4, using: &rng))
            }
            let waiting = (0..<Int.random(in: 0...4, using: &rng)).map { _ in (Int.random(in: 1...400, using: &rng), Int.random(in: 1...4, using: &rng)) }
            let chunk = Int.random(in: 1...200, using: &rng)
            let p = plan(running, waiting: waiting, maxRunning: 8, chunk: chunk)
            let slots = running.map(\.0) + waiting.prefix(p.admit).map { Slot.prefilling(read: 0, prompt: $0.0) }
            #expect(p.prefill.reduce(0) { $0 + $1.count } <= chunk)
            for c in p.prefill {
                guard case .prefilling(let read, let prompt) = slots[c.slot] else { Issue.record("chunk for a decoding slot"); continue }
                #expect(c.from == read && c.count >= 1 && read + c.count <= prompt)
                #expect(c.count == StepPlan.cell(read: read, prompt: prompt, grid: chunk))   // whole cells only
            }
            for i in p.decode { #expect(slots[i] == .decoding) }
            let named = p.decode + p.prefill.map(\.slot) + p.stalled
            #expect(Set(named).count == named.count)
            #expect(named.count == slots.count)   // every slot decodes, reads or is told it waits
            let seats = running.reduce(0) { $0 + $1.1 } + waiting.prefix(p.admit).reduce(0) { $0 + $1.1 }
            #expect(seats <= max(8, running.isEmpty ? (waiting.first?.1 ?? 0) : 0) || p.admit == 0)
        }
    }
}
