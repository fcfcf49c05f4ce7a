import DLCMRuntime

/// How the engine uses the prefix cache: requests resume from cached prompt blocks at
/// admission, catch up on blocks another request added while they read, wait a step rather than
/// read a cell another request reads in the same step, and add each whole cell they read.
extension Engine {
    /// The cell a prompt reads next, as far as sharing it goes: the same scope, the same blocks
    /// before it (by id; nil for a prompt's first cell) and the same tokens.
    struct CellKey: Hashable {
        let scope: String
        let parent: Int?
        let tokens: ArraySlice<Int32>
    }

    /// The slot's prefix-cache scope, nil when it keeps out of the cache.
    func cacheScope(_ s: EngineSlot) -> String? {
        prefixCache.isEnabled ? s.request.cacheScope : nil
    }

    /// Whether the slot may resume from cached blocks: it needs no logits of the prompt tokens.
    func reusesCache(_ s: EngineSlot) -> Bool {
        cacheScope(s) != nil && s.request.promptLogprobs == nil
    }

    /// Cached blocks that continue the slot's prompt from `read` (a multiple of the grid), within
    /// all but its last token.
    func cachedBlocks(_ s: EngineSlot, from read: Int) -> ArraySlice<PrefixCache.Entry> {
        guard reusesCache(s), read % prefixCache.blockTokens == 0 else { return [] }
        let prompt = s.request.prompt
        let chain = prefixCache.match(scope: s.request.cacheScope!, prompt: prompt, limit: prompt.count - 1)
        let first = read / prefixCache.blockTokens
        return first < chain.count ? chain[first...] : []
    }

    /// Brings a slot that has read `read` prompt tokens forward over `blocks`; returns the new read.
    func resume(_ s: EngineSlot, read: Int, over blocks: ArraySlice<PrefixCache.Entry>) -> Int {
        guard let seq = s.sequence, !blocks.isEmpty else { return read }
        for e in blocks {
            seq.append(e.payload)
            s.promptProbs += e.probs
            s.promptBoundaries += e.boundaries
        }
        if !s.request.isInternal { prefixCache.reused(blocks) }   // an answer fill's resuming is not a reuse
        let n = blocks.count * prefixCache.blockTokens
        s.cachedTokens += n
        s.cacheChainEnd = blocks.last!.id
        return read + n
    }

    /// The cell the slot reads next from `read`, when it is one it would share: whole, within all
    /// but the prompt's last token, and after blocks the cache still holds (`after`: the block
    /// it would follow, the slot's own chain end unless given).
    func sharedCell(_ s: EngineSlot, read: Int, after: Int?? = nil) -> CellKey? {
        guard reusesCache(s), s.cacheInserting, read % prefixCache.blockTokens == 0 else { return nil }
        let prompt = s.request.prompt, end = read + prefixCache.blockTokens
        guard end <= prompt.count - 1 else { return nil }
        if read > 0 {
            guard let parent = after ?? s.cacheChainEnd, prefixCache.contains(parent) else { return nil }
            return CellKey(scope: s.request.cacheScope!, parent: parent, tokens: prompt[read..<end])
        }
        return CellKey(scope: s.request.cacheScope!, parent: nil, tokens: prompt[read..<end])
    }

    /// A finished request that asked for it (`cacheAnswer`) has its prompt and answer read into
    /// the cache as one prompt, in whole cells, by an internal request run when the engine has
    /// nothing else to do (`admitAnswerFill`). The answer's tokens went through the model one per
    /// pass, so the states they left are not those a prompt read in cells leaves (the same up to
    /// float rounding, not bit for bit); read as a prompt, they are, and the conversation's next
    /// turn, whose prompt repeats them, resumes after them. Never for a cancelled request; the
    /// `maxAnswerFills` latest wait, older ones are dropped.
    func queueAnswerFill(_ s: EngineSlot, reason: FinishReason) {
        guard reason != .cancelled, s.request.cacheAnswer, let scope = cacheScope(s) else { return }
        let g = prefixCache.blockTokens
        let tokens = s.request.prompt + s.generation.generated
        let whole = tokens.count / g * g
        guard whole > s.request.prompt.count / g * g, whole <= model.config.maxSeqLen else { return }   // the answer completes a cell
        var parameters = GenerationParameters()
        parameters.maxTokens = 0
        let fill = EngineRequest(prompt: Array(tokens[..<whole]), parameters: parameters, promptLogprobs: nil, reportConcepts: false,
                                 deadline: nil, cacheScope: scope, cacheAnswer: false, isInternal: true) { _ in }
        answerFills.append(EngineSlot(request: fill, generation: Generation(tokenizer: tokenizer, prompt: fill.prompt, parameters: parameters,
                                                                             eotTokenID: model.config.eotTokenID)))
        if answerFills.count > Self.maxAnswerFills { answerFills.removeFirst() }
    }

    /// Answer fills waiting for an idle engine, at most this many (the latest).
    static let maxAnswerFills = 16

    /// With no request running or waiting, the latest answer fill whose cells the cache does not
    /// all hold yet joins the queue: fills use only time nobody else wants (a request that
    /// arrives meanwhile runs beside it).
    func admitAnswerFill() {
        guard running.isEmpty, waiting.isEmpty else { return }
        while let fill = answerFills.popLast() {
            let prompt = fill.request.prompt
            let held = prefixCache.match(scope: fill.request.cacheScope!, prompt: prompt, limit: prompt.count).count * prefixCache.blockTokens
            if held < prompt.count {
                waiting.append(fill)
                return
            }
        }
    }

    /// After a prompt chunk: a whole cell goes into the cache.
    func addBlock(_ s: EngineSlot, from: Int, count: Int, out: ForwardOutput) {
        guard let scope = cacheScope(s), s.cacheInserting, count == prefixCache.blockTokens,
              from % count == 0, let mark = s.markBeforeChunk, let seq = s.sequence else { return }
        if from > 0 && s.cacheChainEnd == nil {
            s.cacheInserting = false   // the blocks before it were never kept
            return
        }
        let id = prefixCache.insert(scope: scope, after: from == 0 ? nil : s.cacheChainEnd,
                                    tokens: s.request.prompt[from..<(from + count)], payload: seq.captureBlock(since: mark),
                                    probs: out.boundaryProbs, boundaries: out.boundaries)
        if let id { s.cacheChainEnd = id } else { s.cacheInserting = false }
    }
}
