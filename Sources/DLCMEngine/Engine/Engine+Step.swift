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
        let plan = StepPlan.make(running: running.map { ($0.planSlot, 1 + $0.followers.count) },
                                 waiting: waiting.map { ($0.request.prompt.count, 1 + $0.followers.count) },
                                 maxRunning: configuration.maxRunning, prefillChunk: configuration.prefillChunk)
        for _ in 0..<plan.admit {
            let s = waiting.removeFirst()
            let seq = stepModel.makeSequence()
            // Room for the whole sequence at once (followers inherit it when they fork).
            seq.reserve(tokens: min(s.request.prompt.count + s.request.parameters.maxTokens, model.config.maxSeqLen))
            s.sequence = seq
            s.phase = .prefilling(read: 0)
            running.append(s)
        }
        for s in waiting { notifyWaiting(s) }
        for i in plan.stalled { notifyWaiting(running[i]) }

        var items: [EngineBatchItem] = []
        let decoding = plan.decode.map { running[$0] }
        for s in decoding {
            guard case .decoding(let next, _) = s.phase else { preconditionFailure("planned decode of a slot not decoding") }
            items.append(EngineBatchItem(sequence: s.sequence!, tokens: [next]))
        }
        let prefills = plan.prefill.map { (slot: running[$0.slot], chunk: $0) }
        for p in prefills {
            let prompt = p.slot.request.prompt
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
        for (k, p) in prefills.enumerated() { prefilled(p.slot, count: p.chunk.count, out: outputs[decoding.count + k]) }
        publishGauges()
        return true
    }

    /// Still queued or reading the prompt: the sequence and those following it hear so.
    func notifyWaiting(_ s: EngineSlot) {
        s.request.onEvent(.waiting)
        for f in s.followers { f.request.onEvent(.waiting) }
    }
}
