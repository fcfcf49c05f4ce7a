import DLCMRuntime
#if canImport(Glibc)
import Glibc
#endif

extension Engine {
    /// One scheduling round: drop cancelled and expired sequences, admit waiting ones, run one
    /// batched forward, hand out its results. Returns false when there was nothing to run.
    func step() -> Bool {
        let now = monotonicNanoseconds()
        for s in running + waiting {
            if s.request.isCancelled {
                finish(s, .cancelled)
            } else if let d = s.request.deadline, now >= d {
                finish(s, .timeout)
            }
        }
        while running.count < configuration.maxRunning, !waiting.isEmpty {
            let s = waiting.removeFirst()
            s.sequence = model.newSequence()
            running.append(s)
        }
        for s in waiting { s.request.onEvent(.waiting) }

        // The batch: one token per decoding sequence, plus one prompt chunk (the oldest prefill).
        var items: [BatchItem] = []
        var decoding: [EngineSlot] = []
        var prefill: (slot: EngineSlot, count: Int)?
        for s in running {
            guard let seq = s.sequence else { continue }
            if let t = s.pendingToken {
                items.append(BatchItem(sequence: seq, tokens: [t]))
                decoding.append(s)
            } else if s.prefilling {
                if prefill == nil {
                    let n = min(configuration.prefillChunk, s.request.prompt.count - s.prefilled)
                    prefill = (s, n)
                } else {
                    s.request.onEvent(.waiting)
                }
            }
        }
        if let p = prefill {
            let chunk = Array(p.slot.request.prompt[p.slot.prefilled..<(p.slot.prefilled + p.count)])
            items.append(BatchItem(sequence: p.slot.sequence!, tokens: chunk, allLogits: p.slot.request.promptLogprobs != nil))
        }
        publishGauges()
        guard !items.isEmpty else { return false }

        let t0 = monotonicNanoseconds()
        let outputs: [ForwardOutput]
        do {
            outputs = try model.forward(items)
        } catch {
            for s in decoding + (prefill.map { [$0.slot] } ?? []) { fail(s, "\(error)") }
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
            if let p = prefill { m.promptTokens += UInt64(p.count) }
            m.generatedTokens += UInt64(decoding.count)
        }
        for (s, out) in zip(decoding, outputs) { decoded(s, out) }
        if let p = prefill { prefilled(p.slot, count: p.count, out: outputs[outputs.count - 1]) }
        publishGauges()
        return true
    }

    /// A prompt chunk went through: record the router's view and, on the last chunk, sample.
    private func prefilled(_ s: EngineSlot, count: Int, out: ForwardOutput) {
        let r = s.request, start = s.prefilled
        s.promptProbs += out.boundaryProbs
        s.promptBoundaries += out.boundaries
        if let top = r.promptLogprobs {
            // Row j predicts prompt[start + j + 1]; the prompt's first token has no predecessor.
            if start == 0 { s.promptLogprobs.append(nil) }
            for j in 0..<count where start + j + 1 < r.prompt.count {
                s.promptLogprobs.append(TokenLogprobs(logits: out.logits[j], token: r.prompt[start + j + 1], top: top))
            }
        }
        s.prefilled += count
        guard !s.prefilling else { s.request.onEvent(.waiting); return }
        r.onEvent(.prompt(PromptResult(boundaryProbs: s.promptProbs, boundaries: s.promptBoundaries,
                                       logprobs: r.promptLogprobs == nil ? [] : s.promptLogprobs)))
        if r.parameters.maxTokens == 0 {
            finish(s, .length)
        } else {
            sample(s, logits: out.logits[out.logits.count - 1])
        }
    }

    /// A generated token went through the model.
    private func decoded(_ s: EngineSlot, _ out: ForwardOutput) {
        s.pendingToken = nil
        if out.boundaries[0] { s.completionConcepts += 1 }
        if let held = s.heldToken {
            s.heldToken = nil
            s.request.onEvent(.token(EmittedToken(token: held, startedConcept: out.boundaries[0], boundaryProbability: out.boundaryProbs[0])))
            if let reason = held.finish { finish(s, reason); return }
        }
        sample(s, logits: out.logits[0])
    }

    private func sample(_ s: EngineSlot, logits: [Float]) {
        guard let seq = s.sequence else { return }
        let maxLen = model.config.maxSeqLen
        let token = s.generation.next(logits: logits, contextLeft: maxLen - seq.length)
        let now = monotonicNanoseconds()
        let first = s.lastTokenAt == nil
        let since = Double(now - (s.lastTokenAt ?? s.request.submitted)) / 1e9
        s.lastTokenAt = now
        metrics.update { m in
            if first { m.timeToFirstToken.observe(since) } else { m.interTokenLatency.observe(since) }
        }
        if s.request.reportConcepts && seq.length < maxLen {
            // Feed it once more (also a final token) so its boundary is known before it is sent.
            s.pendingToken = token.token
            s.heldToken = token
            return
        }
        s.request.onEvent(.token(EmittedToken(token: token, startedConcept: nil, boundaryProbability: nil)))
        if let reason = token.finish { finish(s, reason) } else { s.pendingToken = token.token }
    }

    /// Reports the end and releases the sequence's caches.
    func finish(_ s: EngineSlot, _ reason: FinishReason) {
        var text = s.generation.end(reason)
        if let held = s.heldToken {
            // Cancelled or expired while a token waited for its boundary: it still goes out.
            s.heldToken = nil
            if reason != .cancelled {
                s.request.onEvent(.token(EmittedToken(token: held, startedConcept: nil, boundaryProbability: nil)))
            } else {
                text = ""
            }
        }
        // Counted and freed before the caller hears of it, so that whoever reads the metrics after
        // the response sees this sequence gone.
        let seq = s.sequence
        metrics.update { m in
            m.finished += 1
            if reason == .cancelled { m.cancelled += 1 }
            if reason == .timeout { m.timedOut += 1 }
            if let seq, seq.length > 0 {
                m.tokensPerConcept.observe(Double(seq.length) / Double(max(seq.conceptCount + 1, 1)))
            }
        }
        remove(s)
        publishGauges()
        s.request.onEvent(.finished(s.generation.finish ?? reason, text: text, s.stats))
    }

    func fail(_ s: EngineSlot, _ message: String) {
        remove(s)
        s.request.onEvent(.failed(message))
    }

    private func remove(_ s: EngineSlot) {
        s.sequence = nil
        running.removeAll { $0 === s }
        waiting.removeAll { $0 === s }
        inbox.withLock { $0.inSystem -= 1 }
    }

    func publishGauges() {
        let kv = running.reduce(0) { $0 + ($1.sequence?.memoryBytes ?? 0) }
        let queued = inbox.withLock { $0.new.count } + waiting.count
        let run = running.count
        metrics.update { m in
            m.waiting = queued
            m.running = run
            m.kvCacheBytes = kv
        }
    }
}
