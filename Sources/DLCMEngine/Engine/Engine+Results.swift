import DLCMRuntime
import MonotonicTime

/// What the engine does with a step's outputs: prompt results, tokens, finishing.
extension Engine {
    /// A prompt chunk went through: record the router's view and, on the last chunk, sample.
    func prefilled(_ s: EngineSlot, count: Int, out: ForwardOutput) {
        guard case .prefilling(let start) = s.phase else { preconditionFailure("prompt chunk for a slot not prefilling") }
        let r = s.request
        s.promptProbs += out.boundaryProbs
        s.promptBoundaries += out.boundaries
        if let top = r.promptLogprobs {
            // Row j predicts prompt[start + j + 1]; the prompt's first token has no predecessor.
            if start == 0 { s.promptLogprobs.append(nil) }
            for j in 0..<count where start + j + 1 < r.prompt.count {
                s.promptLogprobs.append(TokenLogprobs(logits: out.logits[j], token: r.prompt[start + j + 1], top: top))
            }
        }
        let read = start + count
        guard read == r.prompt.count else {
            s.phase = .prefilling(read: read)
            notifyWaiting(s)
            return
        }
        s.phase = .choosing
        // The prompt is read: followers fork the sequence and carry on as sequences of their own.
        let group = [s] + s.followers
        for f in s.followers {
            f.sequence = s.sequence!.forked()
            f.phase = .choosing
            f.promptProbs = s.promptProbs
            f.promptBoundaries = s.promptBoundaries
            f.promptLogprobs = s.promptLogprobs
            f.cachedTokens = s.cachedTokens
            f.leader = nil
            running.append(f)
        }
        s.followers = []
        let logits = out.logits[out.logits.count - 1]
        for g in group {
            g.request.onEvent(.prompt(PromptResult(boundaryProbs: g.promptProbs, boundaries: g.promptBoundaries,
                                                   logprobs: g.request.promptLogprobs == nil ? [] : g.promptLogprobs)))
            if g.request.parameters.maxTokens == 0 {
                finish(g, .length)
            } else {
                sample(g, logits: logits)
            }
        }
    }

    /// Generated tokens went through the model: each sequence's held token goes out, then every
    /// sequence still going picks its next token. Picking (sampling over the vocabulary,
    /// detokenizing, stop strings: 3-4 us a sequence) runs on the model's threads, one slot per
    /// item, so a 16-sequence step does not spend it serially; the events go out in order after.
    func decoded(_ slots: [EngineSlot], _ outs: ArraySlice<ForwardOutput>) {
        var going: [(slot: EngineSlot, logits: [Float])] = []
        going.reserveCapacity(slots.count)
        for (s, out) in zip(slots, outs) where !s.done {
            let held = s.heldToken
            s.phase = .choosing
            if out.boundaries[0] { s.completionConcepts += 1 }
            if let held {
                s.request.onEvent(.token(EmittedToken(token: held, startedConcept: out.boundaries[0], boundaryProbability: out.boundaryProbs[0])))
                if let reason = held.finish { finish(s, reason); continue }
            }
            if s.sequence != nil { going.append((s, out.logits[0])) }
        }
        var picked = [GeneratedToken?](repeating: nil, count: going.count)
        picked.withUnsafeMutableBufferPointer { buffer in
            let out = buffer
            let body: (Range<Int>) -> Void = { range in
                for i in range { out[i] = self.pick(going[i].slot, logits: going[i].logits) }
            }
            if let pool = stepModel.pool, going.count >= 4 { pool.parallelFor(going.count, body) } else { body(0..<going.count) }
        }
        for (g, token) in zip(going, picked) {
            if let token { deliver(g.slot, token) }
        }
    }

    /// The next token of a running sequence (nil once its caches are gone). Touches only `s`.
    private func pick(_ s: EngineSlot, logits: [Float]) -> GeneratedToken? {
        guard let seq = s.sequence else { return nil }
        return s.generation.next(logits: logits, contextLeft: model.config.maxSeqLen - seq.length)
    }

    private func sample(_ s: EngineSlot, logits: [Float]) {
        if let token = pick(s, logits: logits) { deliver(s, token) }
    }

    /// Sends a picked token (or holds it until its boundary is known) and records its latency.
    private func deliver(_ s: EngineSlot, _ token: GeneratedToken) {
        guard let seq = s.sequence else { return }
        let maxLen = model.config.maxSeqLen
        let now = monotonicNanoseconds()
        let first = s.lastTokenAt == nil
        let since = Double(now - (s.lastTokenAt ?? s.request.submitted)) / 1e9
        s.lastTokenAt = now
        metrics.update { m in
            if first { m.timeToFirstToken.observe(since) } else { m.interTokenLatency.observe(since) }
        }
        if s.request.reportConcepts && seq.length < maxLen {
            // Feed it once more (also a final token) so its boundary is known before it is sent.
            s.phase = .decoding(next: token.token, held: token)
            return
        }
        let event = EngineEvent.token(EmittedToken(token: token, startedConcept: nil, boundaryProbability: nil))
        if let reason = token.finish {
            s.request.onEvent(event)
            finish(s, reason)
        } else {
            s.phase = .decoding(next: token.token, held: nil)
            // A first token goes at once (time to first token); the others during the next pass.
            if first { s.request.onEvent(event) } else { deferEvent(s, event) }
        }
    }

    /// Holds a token event until the next pass starts: handing events to requests (rendering
    /// an SSE chunk, passing it to the event loop) is serial work on this thread, and done
    /// between passes it left the other compute threads waiting (~3% of a 16-stream step over
    /// HTTP). During the pass it overlaps their share of it: the pool's workers start on their
    /// parts while this thread delivers, then joins (the parts are handed out dynamically, so
    /// a long delivery only shifts work to them). A token event is at most one step late;
    /// first tokens, ends and errors are never held, and anything held goes out before a
    /// sequence's end.
    func deferEvent(_ s: EngineSlot, _ event: EngineEvent) {
        deferredEvents.append((s, event))
    }

    /// Hands out the held token events, in the order they were made.
    func deliverDeferredEvents() {
        guard !deferredEvents.isEmpty else { return }
        swap(&deferredEvents, &deliveringEvents)
        for (slot, event) in deliveringEvents { slot.request.onEvent(event) }
        deliveringEvents.removeAll(keepingCapacity: true)
    }

    /// Reports the end and releases the sequence's caches.
    func finish(_ s: EngineSlot, _ reason: FinishReason) {
        guard !s.done else { return }
        deliverDeferredEvents()   // its held tokens before its end
        let held = s.heldToken
        s.phase = .done
        var text = s.generation.end(reason)
        if let held {
            // Cancelled or expired while a token waited for its boundary: it still goes out.
            if reason != .cancelled {
                s.request.onEvent(.token(EmittedToken(token: held, startedConcept: nil, boundaryProbability: nil)))
            } else {
                text = ""
            }
        }
        // Counted and freed before the caller hears of it, so that whoever reads the metrics after
        // the response sees this sequence gone.
        let seq = s.sequence
        if !s.request.isInternal {
            metrics.update { m in
                m.finished += 1
                if reason == .cancelled { m.cancelled += 1 }
                if reason == .timeout { m.timedOut += 1 }
                if let seq, seq.length > 0 {
                    m.tokensPerConcept.observe(Double(seq.length) / Double(max(seq.conceptCount + 1, 1)))
                }
            }
        }
        remove(s)
        queueAnswerFill(s, reason: reason)
        publishGauges()
        s.request.onEvent(.finished(s.generation.finish ?? reason, text: text, s.stats))
        // Followers cannot outlive the leader that reads their prompt.
        for f in s.followers { finish(f, reason) }
    }

    func fail(_ s: EngineSlot, _ message: String) {
        guard !s.done else { return }
        deliverDeferredEvents()
        s.phase = .done
        remove(s)
        s.request.onEvent(.failed(message))
        for f in s.followers { fail(f, message) }
    }

    private func remove(_ s: EngineSlot) {
        if let leader = s.leader {
            leader.followers.removeAll { $0 === s }
            s.leader = nil
        }
        s.sequence = nil
        running.removeAll { $0 === s }
        waiting.removeAll { $0 === s }
        if !s.request.isInternal { inbox.withLock { $0.inSystem -= 1 } }   // internal ones never count against the queue
    }

    func publishGauges() {
        let kv = running.reduce(0) { $0 + ($1.sequence?.memoryBytes ?? 0) }
        let queued = inbox.withLock { $0.new.count } + waiting.count
        let run = running.count
        let cache = prefixCache.statistics
        let fills = answerFills.count + running.filter(\.request.isInternal).count + waiting.filter(\.request.isInternal).count
        metrics.update { m in
            m.pendingAnswerFills = fills
            m.waiting = queued
            m.running = run
            m.kvCacheBytes = kv
            m.prefixCacheBytes = cache.bytes
            m.prefixCacheEntries = cache.entries
            m.prefixCacheQueriedTokens = cache.queriedTokens
            m.prefixCacheHitTokens = cache.hitTokens
            m.prefixCacheEvictions = cache.evictions
        }
    }
}
