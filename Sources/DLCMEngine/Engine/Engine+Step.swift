import DLCMRuntime
import MonotonicTime
#if canImport(Glibc)
import Glibc
#endif

extension Engine {
    /// How many waiting groups (leader and followers, sizes in queue order) join the batch now,
    /// first come first served: each must fit beside the `occupied` seats, except that an empty
    /// batch takes the first group whatever its size.
    static func admissions(occupied: Int, waiting sizes: [Int], maxRunning: Int) -> Int {
        var taken = occupied, admitted = 0
        for size in sizes {
            guard taken == 0 || taken + size <= maxRunning else { break }
            taken += size
            admitted += 1
        }
        return admitted
    }

    /// One scheduling round: drop cancelled and expired sequences, admit waiting ones, run one
    /// batched forward, hand out its results. Returns false when there was nothing to run.
    func step() -> Bool {
        let now = monotonicNanoseconds()
        for s in running + waiting + (running + waiting).flatMap(\.followers) {
            if s.request.isCancelled {
                finish(s, .cancelled)
            } else if let d = s.request.deadline, now >= d {
                finish(s, .timeout)
            }
        }
        // A leader joins with its followers, and they hold their seats from then on: they fork
        // into sequences of their own once it has read the prompt. Counting only running slots
        // would let several n = 8 groups in at once and the batch past maxRunning after the forks.
        let seats = Engine.admissions(occupied: running.reduce(0) { $0 + 1 + $1.followers.count },
                                      waiting: waiting.map { 1 + $0.followers.count },
                                      maxRunning: configuration.maxRunning)
        for _ in 0..<seats {
            let s = waiting.removeFirst()
            s.sequence = model.newSequence()
            // Room for the whole sequence at once (followers inherit it when they fork).
            s.sequence!.reserve(tokens: min(s.request.prompt.count + s.request.parameters.maxTokens, model.config.maxSeqLen))
            running.append(s)
        }
        for s in waiting { notifyWaiting(s) }

        // The batch: one token per decoding sequence, plus prompt chunks of at most prefillChunk
        // tokens in all, oldest prompt first: a burst of short prompts is read in one step (16
        // requests arriving together no longer wait 16 steps for their first token), and a long
        // one is read a chunk per step while the others keep decoding.
        var items: [BatchItem] = []
        var decoding: [EngineSlot] = []
        var prefills: [(slot: EngineSlot, count: Int)] = []
        var budget = configuration.prefillChunk
        for s in running {
            guard let seq = s.sequence else { continue }
            if let t = s.pendingToken {
                items.append(BatchItem(sequence: seq, tokens: [t]))
                decoding.append(s)
            } else if s.prefilling {
                if budget > 0 {
                    let n = min(budget, s.request.prompt.count - s.prefilled)
                    prefills.append((s, n))
                    budget -= n
                } else {
                    notifyWaiting(s)
                }
            }
        }
        for p in prefills {
            let chunk = Array(p.slot.request.prompt[p.slot.prefilled..<(p.slot.prefilled + p.count)])
            items.append(BatchItem(sequence: p.slot.sequence!, tokens: chunk, allLogits: p.slot.request.promptLogprobs != nil))
        }
        publishGauges()
        guard !items.isEmpty else {
            deliverDeferredEvents()
            return false
        }

        let t0 = monotonicNanoseconds()
        let outputs: [ForwardOutput]
        do {
            // The held token events of the last step go out during the pass (forward runs
            // `overlapping` on every path that does not throw; `fail` below hands them out else).
            outputs = try model.forward(items, overlapping: { self.deliverDeferredEvents() })
        } catch {
            for s in decoding + prefills.map(\.slot) { fail(s, "\(error)") }
            return true
        }
        let t1 = monotonicNanoseconds()
        let minimum = UInt64(configuration.minimumStepSeconds * 1e9)
        if t1 - t0 < minimum { usleep(UInt32((minimum - (t1 - t0)) / 1000)) }
        let concepts = outputs.reduce(0) { $0 + $1.conceptsClosed }
        metrics.update { m in
            m.steps += 1
            m.batchSize.observe(Double(items.count))
            m.stepDuration.observe(Double(t1 - t0) / 1e9)
            m.conceptsEmitted += UInt64(concepts)
            m.promptTokens += UInt64(prefills.reduce(0) { $0 + $1.count })
            m.generatedTokens += UInt64(decoding.count)
        }
        decoded(decoding, outputs.prefix(decoding.count))
        for (k, p) in prefills.enumerated() { prefilled(p.slot, count: p.count, out: outputs[decoding.count + k]) }
        publishGauges()
        return true
    }

    /// Still queued or reading the prompt: the sequence and those following it hear so.
    func notifyWaiting(_ s: EngineSlot) {
        s.request.onEvent(.waiting)
        for f in s.followers { f.request.onEvent(.waiting) }
    }
}
