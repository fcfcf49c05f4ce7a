import DLCMRuntime
import MonotonicTime
#if canImport(Glibc)
import Glibc
#endif

extension Engine {
    /// One scheduling round: drop cancelled and expired sequences, make the step's plan
    /// (`StepPlan`: admissions, decodes, prompt chunks), carry it out with one batched forward,
    /// hand out its results. Returns false when there was nothing to run.
    func step() -> Bool {
        let now = monotonicNanoseconds()
        for s in running + waiting + (running + waiting).flatMap(\.followers) {
            if s.request.isCancelled {
                finish(s, .cancelled)
            } else if let d = s.request.deadline, now >= d {
                finish(s, .timeout)
            }
        }
        admitAnswerFill()
        // Prompts being read take the blocks other requests added meanwhile; each whole cell a
        // prompt would share is claimed by the first slot to read it, later ones wait a step.
        var claimed = Set<CellKey>()
        var running: [(slot: StepPlan.Slot, seats: Int)] = []
        for s in self.running {
            var slot = s.planSlot
            if case .prefilling(let read, let prompt) = slot {
                let resumed = resume(s, read: read, over: cachedBlocks(s, from: read))
                if resumed != read {
                    if !s.request.isInternal { prefixCache.recordQuery(prompt: 0, hit: resumed - read) }
                    s.phase = .prefilling(read: resumed)
                    slot = .prefilling(read: resumed, prompt: prompt)
                }
                if let cell = sharedCell(s, read: resumed), !claimed.insert(cell).inserted { slot = .awaitingShared }
            }
            running.append((slot, 1 + s.followers.count))
        }
        // Waiting groups that can be admitted learn what the cache holds of their prompts.
        let admissible = StepPlan.admissions(occupied: running.reduce(0) { $0 + $1.seats },
                                             waiting: waiting.map { 1 + $0.followers.count }, maxRunning: configuration.maxRunning)
        var hits: [ArraySlice<PrefixCache.Entry>] = []
        var queue: [StepPlan.Waiting] = []
        for (i, s) in waiting.enumerated() {
            var w = StepPlan.Waiting(prompt: s.request.prompt.count, seats: 1 + s.followers.count)
            if i < admissible {
                let blocks = cachedBlocks(s, from: 0)
                hits.append(blocks)
                w.cached = blocks.count * prefixCache.blockTokens
                if let cell = sharedCell(s, read: w.cached, after: blocks.last?.id), !claimed.insert(cell).inserted { w.awaitsShared = true }
            }
            queue.append(w)
        }
        let plan = StepPlan.make(running: running, waiting: queue, maxRunning: configuration.maxRunning,
                                 prefillChunk: configuration.prefillChunk)
        for i in 0..<plan.admit {
            let s = waiting.removeFirst()
            let seq = stepModel.makeSequence()
            // Room for the whole sequence at once (followers inherit it when they fork).
            seq.reserve(tokens: min(s.request.prompt.count + s.request.parameters.maxTokens, model.config.maxSeqLen))
            s.sequence = seq
            let read = resume(s, read: 0, over: hits[i])
            // Answer fills resume most of what they read: counting them would flatter the hit rate.
            if reusesCache(s) && !s.request.isInternal { prefixCache.recordQuery(prompt: s.request.prompt.count, hit: read) }
            s.phase = .prefilling(read: read)
            self.running.append(s)
        }
        for s in waiting { notifyWaiting(s) }
        for i in plan.stalled { notifyWaiting(self.running[i]) }

        var items: [EngineBatchItem] = []
        let decoding = plan.decode.map { self.running[$0] }
        for s in decoding {
            guard case .decoding(let next, _) = s.phase else { preconditionFailure("planned decode of a slot not decoding") }
            items.append(EngineBatchItem(sequence: s.sequence!, tokens: [next]))
        }
        let prefills = plan.prefill.map { (slot: self.running[$0.slot], chunk: $0) }
        for p in prefills {
            let prompt = p.slot.request.prompt
            p.slot.markBeforeChunk = p.slot.sequence!.mark
            items.append(EngineBatchItem(sequence: p.slot.sequence!, tokens: Array(prompt[p.chunk.from..<(p.chunk.from + p.chunk.count)]),
                                   allLogits: p.slot.request.promptLogprobs != nil))
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
            outputs = try stepModel.step(items, overlapping: { self.deliverDeferredEvents() })
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
            m.promptTokens += UInt64(prefills.reduce(0) { $0 + $1.chunk.count })
            m.generatedTokens += UInt64(decoding.count)
        }
        decoded(decoding, outputs.prefix(decoding.count))
        for (k, p) in prefills.enumerated() {
            addBlock(p.slot, from: p.chunk.from, count: p.chunk.count, out: outputs[decoding.count + k])
            prefilled(p.slot, count: p.chunk.count, out: outputs[decoding.count + k])
        }
        publishGauges()
        return true
    }

    /// Still queued or reading the prompt: the sequence and those following it hear so.
    func notifyWaiting(_ s: EngineSlot) {
        s.request.onEvent(.waiting)
        for f in s.followers { f.request.onEvent(.waiting) }
    }
}
