import Foundation
import Kernels
import MonotonicTime

/// One sequence's share of a batched pass: the tokens it consumes now (a whole prompt, a prompt
/// chunk or one generated token).
public struct BatchItem {
    public let sequence: SequenceState
    public let tokens: [Int32]
    /// Logits for every new token (prompt scoring) instead of only the last.
    public let allLogits: Bool
    /// Forced segment starts, one per new token (ablations, `BoundaryRule`); nil lets the router
    /// decide. Only where concepts start changes: p, the smoothing and the caches run as usual,
    /// and a sequence's first token always starts a segment.
    public let boundaries: [Bool]?

    public init(sequence: SequenceState, tokens: [Int32], allLogits: Bool = false, boundaries: [Bool]? = nil) {
        self.sequence = sequence; self.tokens = tokens; self.allLogits = allLogits; self.boundaries = boundaries
    }
}

/// What a pass produced for one item.
public struct ForwardOutput {
    /// (vocab) logits, one array per requested token (the last token, or all of them).
    public var logits: [[Float]]
    /// Router boundary probability of each new token.
    public var boundaryProbs: [Float]
    /// Whether each new token started a new segment.
    public var boundaries: [Bool]
    /// Concepts completed (backbone steps taken) during this pass.
    public var conceptsClosed: Int

    public init(logits: [[Float]], boundaryProbs: [Float], boundaries: [Bool], conceptsClosed: Int) {
        self.logits = logits; self.boundaryProbs = boundaryProbs; self.boundaries = boundaries; self.conceptsClosed = conceptsClosed
    }
}

/// A DLCM on the CPU: encoder, router, pooling, concept backbone, smoothing, cross-attention and
/// decoder, with every cache kept per sequence. Not thread-safe: one thread owns it and calls
/// `forward`; the work inside is spread over `pool`.
public final class DLCMModel {
    public let config: DLCMConfig
    /// Element type of the sequences' KV caches.
    public let kvCache: CacheElement
    let weights: DLCMWeights
    let source: TensorSource
    public let pool: ThreadPool?
    /// Matrices packed at load for batched matmuls (nil when loaded with `prepack: false`).
    public let packedWeights: PackedWeights?
    /// Scratch for passes: one lane per thread. A batch of many short items is split over the
    /// lanes, each running the whole model on its share with no hand-offs inside (see `forward`).
    private let lanes: [ForwardLane]
    /// Time per stage over all passes so far, summed over lanes (reset it freely).
    public var profile: ForwardProfile {
        get { lanes.dropFirst().reduce(lanes[0].profile) { $0.adding($1.profile) } }
        set { for (i, lane) in lanes.enumerated() { lane.profile = i == 0 ? newValue : ForwardProfile() } }
    }
    /// Cross-attention key (QK-normed) and value of the null concept, index 0 for every token.
    let nullK: [Float]   // (d_token)
    let nullV: [Float]   // (d_token)

    /// - Parameters:
    ///   - source: the tensors; kept alive by the model.
    ///   - threads: compute threads (1 = the calling thread only).
    ///   - prepack: pack the weight matrices once now (a copy, bf16 pairs for bf16 weights and f32
    ///     otherwise, `packedWeights.bytes`) so batched steps do not repack them on every pass.
    ///     Quantized (q8_0 / q4_0) matrices are never packed: they stay in the file's bytes. Only
    ///     models of at most `packAtLoadMaxBytes` of tensors are packed (see there).
    ///   - quantizedProducts: how decode multiplies q8_0 / q4_0 matrices: int8 dot products where
    ///     the CPU has them, or exactly as the dequantized f32 weights would (QuantizedDot.swift).
    ///   - kvCache: element type of the sequences' encoder, backbone and decoder KV caches (f32, or
    ///     bf16 / f16 at half the memory per position; CacheElement.swift). The cross-attention's
    ///     keys and values of completed concepts (a few per cent of a sequence's cache) stay f32.
    public init(config: DLCMConfig, source: TensorSource, threads: Int = ThreadPool.coreCount, prepack: Bool = true,
                quantizedProducts: QuantizedProducts = .preferred, kvCache: CacheElement = .standard) throws {
        try config.validate()
        self.config = config
        self.kvCache = kvCache
        self.source = source
        let packer = prepack && Self.tensorBytes(source) <= Self.packAtLoadMaxBytes ? PackedWeights() : nil
        packedWeights = packer
        let weights = try DLCMWeights(config: config, source: source, packer: packer, quantizedProducts: quantizedProducts)
        self.weights = weights
        pool = threads > 1 ? ThreadPool(threadCount: threads) : nil
        lanes = (0..<max(1, threads)).map { _ in ForwardLane(config: config, weights: weights, cacheElement: kvCache) }
        let c = config
        var k = [Float](repeating: 0, count: c.dToken), v = k
        weights.conceptNull.withUnsafeBufferPointer { z in
            matmul(&k, z.baseAddress!, weights.cross.wk, m: 1)
            matmul(&v, z.baseAddress!, weights.cross.wv, m: 1)
        }
        let hd = c.crossHeadDim
        weights.cross.kNorm.withUnsafeBufferPointer { nw in
            k.withUnsafeMutableBufferPointer { kb in
                rmsnorm(kb.baseAddress!, kb.baseAddress!, weight: nw.baseAddress!, dim: hd, rows: c.crossNHeads, eps: c.normEps)
            }
        }
        nullK = k
        nullV = v
    }

    /// Largest model (bytes of all its tensors) whose matrices are packed at load. The packed copy
    /// is as large as the bf16 weights (twice the f16 ones) and pays where the weights live in
    /// cache: for the 9.5 MB shipped model 16-stream decode ran 1.49x faster with it (one thread,
    /// `dlcm bench --compare-prepack`; batch 1 the same). For a 312 MB
    /// bf16 model (160M parameters, one thread) it gave 1.03x at batch 1 and 1.06x at 16 streams
    /// for 294 MB more memory, so large models pack per call.
    public static let packAtLoadMaxBytes = 64 << 20

    /// Bytes of every tensor in `source`.
    static func tensorBytes(_ source: TensorSource) -> Int {
        source.tensorNames.reduce(0) { total, name in
            guard let t = source.tensor(named: name) else { return total }
            return total + t.shape.reduce(1, *) * t.dtype.byteSize
        }
    }

    public func newSequence() -> SequenceState {
        let lane = lanes[0]
        return SequenceState(config: config, encoder: lane.encoder.makeCache(), backbone: lane.backbone.makeCache(),
                             decoder: lane.decoder.makeCache())
    }

    /// Bytes of scratch space the model holds for passes (grows with the largest batch).
    public var scratchBytes: Int { lanes.reduce(0) { $0 + $1.bytes } }

    /// Fewest rows a lane gets when a batch is split (below it, one pass with the threads
    /// splitting each matrix is faster). Measured in the serving engine on a 2-vCPU AMD EPYC
    /// (Zen 5), 2 threads, bf16 pairs, alternating runs: lanes of 3-6 rows against one split
    /// pass, 6 streams +13%, 8 streams +14-44%, 12 streams +2-13%; lanes of 2 rows (4 streams,
    /// `matvec` on each thread streaming every weight) 0.76x. (With the f32 packed copy on a
    /// 2-vCPU AMD EPYC Zen 4, one 512-bit FMA a cycle, 8 rows was the better floor.)
    static let minLaneRows = 3

    /// Advances every item's sequence by its tokens in one batched pass.
    ///
    /// A batch of many short items (decode steps) is cut into one part per thread, by rows, and
    /// each part runs the whole pass (encoder and router, the backbone for the concepts its
    /// sequences closed, cross-attention, decoder and head) on its own thread and lane: no
    /// hand-off per matrix, and the per-sequence work between them (attention, norms, the router)
    /// runs in parallel too.
    /// Results agree with the one-pass ones up to float rounding (a part with at most 2 rows for
    /// a matrix, 4 for a concept-level one, takes the matvec kernel, which sums in another order).
    /// A prompt chunk beside them (a request arriving while others decode) runs as a pass of its
    /// own after theirs, each matrix split over the threads; so do batches of few rows.
    ///
    /// `overlapping`, when given, is run once on the calling thread: while the other threads
    /// start on their parts of a split batch, else before the pass.
    public func forward(_ batch: [BatchItem], overlapping: (() -> Void)? = nil) throws -> [ForwardOutput] {
        try validate(batch)
        let short = batch.indices.filter { batch[$0].tokens.count <= 4 }
        let shortRows = short.reduce(0) { $0 + batch[$1].tokens.count }
        guard pool != nil, min(lanes.count, shortRows / Self.minLaneRows, short.count) > 1 else {
            overlapping?()
            return onePass(batch)
        }
        guard short.count < batch.count else { return split(batch, overlapping: overlapping) }
        // Decode rows split over the lanes, then the long items in one pass; outputs in batch order.
        let long = batch.indices.filter { batch[$0].tokens.count > 4 }
        var outputs = [ForwardOutput?](repeating: nil, count: batch.count)
        for (i, out) in zip(short, split(short.map { batch[$0] }, overlapping: overlapping)) { outputs[i] = out }
        for (i, out) in zip(long, onePass(long.map { batch[$0] })) { outputs[i] = out }
        return outputs.map { $0! }
    }

    /// The whole batch as one pass, each matrix split over the threads.
    private func onePass(_ batch: [BatchItem]) -> [ForwardOutput] {
        let state = route(batch, lane: lanes[0], pool: pool)
        closeConcepts(state, lane: lanes[0], pool: pool)
        return finish(state, lane: lanes[0], pool: pool)
    }

    /// Short items (at most 4 tokens each, enough rows for two lanes) in one part per lane.
    private func split(_ batch: [BatchItem], overlapping: (() -> Void)? = nil) -> [ForwardOutput] {
        let pool = pool!
        let rows = batch.reduce(0) { $0 + $1.tokens.count }
        let parts = min(lanes.count, rows / Self.minLaneRows, batch.count)
        var cuts = [0]   // item index where each part starts
        var taken = 0
        for (i, item) in batch.enumerated() where cuts.count < parts {
            taken += item.tokens.count
            if taken * parts >= rows * cuts.count { cuts.append(i + 1) }
        }
        cuts.append(batch.count)
        // Each part runs the whole pass on its thread, its own concepts through the backbone
        // too: no hand-off inside the step. (Measured against one backbone pass for the concepts
        // of all parts, each matrix split over the threads: that read the backbone's weights
        // once, but its ~4 concept rows made ~17 small split matvecs and two barriers, a quarter
        // of a 16-sequence step; here each thread streams the weights for its ~2 rows.)
        // Parts never take the same time (one closed more concepts: a backbone pass of 70-140 us
        // or none, in a part of ~330 us), so a thread done with its own part helps the others
        // with their LM heads, the last and largest product of a part (`SharedMatmul`).
        let board = (0..<parts).map { _ in SplitPart() }
        var results = [[ForwardOutput]](repeating: [], count: parts)
        results.withUnsafeMutableBufferPointer { buffer in
            let out = buffer
            pool.parallelFor(parts, overlapping: overlapping) { range in
                for p in range {
                    board[p].state.store(SplitPart.running, ordering: .releasing)
                    let lane = self.lanes[p]
                    let state = self.route(Array(batch[cuts[p]..<cuts[p + 1]]), lane: lane, pool: nil)
                    self.closeConcepts(state, lane: lane, pool: nil)
                    out[p] = self.finish(state, lane: lane, pool: nil, head: board[p].head)
                    board[p].state.store(SplitPart.done, ordering: .releasing)
                    SplitPart.helpWhileRunning(board)
                }
            }
        }
        return results.flatMap { $0 }
    }

    /// What the first stage of a pass leaves for the others.
    struct PassState {
        let batch: [BatchItem]
        let lane: ForwardLane
        let rows: Int
        let firstRow: [Int]
        let outputs: [ForwardOutput]
        let visible: [Int]
        let currentMult: [Int32]
        /// Segments closed by this pass, in item order; their means are rows of `lane.conceptIn`.
        let newConcepts: [(item: Int, p: Float, slot: Int)]
    }

    /// Stage 1: embeddings, encoder, router and segmentation. Walks each sequence's tokens in
    /// order: a boundary closes the open segment into a concept (its mean queued for the
    /// backbone); each token records which concepts it may see (0...visible) and its
    /// multiplicity in the open segment. `h` is left in `lane.x`.
    private func route(_ batch: [BatchItem], lane: ForwardLane, pool: ThreadPool?) -> PassState {
        let c = config, d = c.dToken, ds = c.dScan
        let rq = lane.rq, rk = lane.rk, conceptIn = lane.conceptIn
        let rows = batch.reduce(0) { $0 + $1.tokens.count }
        var firstRow = [Int](); var r0 = 0
        for item in batch { firstRow.append(r0); r0 += item.tokens.count }

        var t = monotonicNanoseconds()
        lane.x.reserve(rows * d)
        let x = lane.x.pointer
        for (i, item) in batch.enumerated() {
            for (j, t) in item.tokens.enumerated() {
                weights.embed.decodeRow(Int(t), into: x + (firstRow[i] + j) * d)
            }
        }
        lane.encoder.forward(x, rows: rows, groups: batch.enumerated().map {
            RowGroup(cache: $1.sequence.encoder, first: firstRow[$0], count: $1.tokens.count)
        }, pool: pool)
        let h = UnsafePointer(x)   // (rows, d_token) encoder output H
        t = lane.profile.add(.encoder, since: t)

        rq.reserve(rows * ds); rk.reserve(rows * ds)
        matmul(rq.pointer, h, weights.routerWq, m: rows, pool: pool)
        matmul(rk.pointer, h, weights.routerWk, m: rows, pool: pool)
        var outputs = [ForwardOutput]()
        var visible = [Int](repeating: 0, count: rows)
        var currentMult = [Int32](repeating: 0, count: rows)
        var newConcepts = [(item: Int, p: Float, slot: Int)]()  // slot: the concept's index in its sequence
        conceptIn.reserve(rows * d)
        let firstPooling = c.pooling == .meanFirst, conceptFirst = lane.conceptFirst
        if firstPooling { conceptFirst.reserve(rows * d) }
        for (i, item) in batch.enumerated() {
            let s = item.sequence
            var probs = [Float](), flags = [Bool]()
            for j in 0..<item.tokens.count {
                let r = firstRow[i] + j
                let pos = s.length + j
                var p: Float = 1
                if pos > 0 && j == 0 {
                    p = s.qPrev.withUnsafeBufferPointer { boundaryProbability($0.baseAddress!, rk.pointer + r * ds, ds) }
                } else if pos > 0 {
                    p = boundaryProbability(rq.pointer + (r - 1) * ds, rk.pointer + r * ds, ds)
                }
                let boundary = pos == 0 || (item.boundaries?[j] ?? (p >= c.threshold))
                if boundary && s.segLen > 0 {
                    let mean = conceptIn.pointer + newConcepts.count * d
                    let inv = 1 / Float(s.segLen)
                    for e in 0..<d { mean[e] = s.segSum[e] * inv }
                    if firstPooling {
                        s.segFirst.withUnsafeBufferPointer { (conceptFirst.pointer + newConcepts.count * d).update(from: $0.baseAddress!, count: d) }
                    }
                    newConcepts.append((i, s.pOpen, s.segLengths.count))
                    s.segLengths.append(Int32(s.segLen))
                    s.segLen = 0
                    for e in 0..<d { s.segSum[e] = 0 }
                }
                if boundary {
                    s.pOpen = p
                    if firstPooling { s.segFirst.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: h + r * d, count: d) } }
                }
                s.segSum.withUnsafeMutableBufferPointer { addScaled($0.baseAddress!, h + r * d, alpha: 1, count: d) }
                s.segLen += 1
                visible[r] = s.segLengths.count
                currentMult[r] = Int32(s.segLen)
                probs.append(p); flags.append(boundary)
            }
            let lastQ = rq.pointer + (firstRow[i] + item.tokens.count - 1) * ds
            s.qPrev.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: lastQ, count: ds) }
            outputs.append(ForwardOutput(logits: [], boundaryProbs: probs, boundaries: flags,
                                         conceptsClosed: newConcepts.reduce(0) { $0 + ($1.item == i ? 1 : 0) }))
        }

        _ = lane.profile.add(.router, since: t)
        return PassState(batch: batch, lane: lane, rows: rows, firstRow: firstRow, outputs: outputs, visible: visible,
                         currentMult: currentMult, newConcepts: newConcepts)
    }

    /// Stage 2, for the concepts the pass closed: pool up, one backbone pass (grouped per
    /// sequence), smoothing, and their cross-attention K/V appended to each sequence's concept
    /// cache. Uses the lane's backbone and scratch.
    private func closeConcepts(_ state: PassState, lane: ForwardLane, pool: ThreadPool?) {
        let c = config, d = c.dToken, dc = c.dConcept
        let t = monotonicNanoseconds()
        // In item order: each sequence's rows contiguous, their means rows of lane.conceptIn.
        let newConcepts = state.newConcepts
        let concepts = lane.concepts, ck = lane.ck, cv = lane.cv
        func sequence(_ nc: (item: Int, p: Float, slot: Int)) -> SequenceState { state.batch[nc.item].sequence }
        if !newConcepts.isEmpty {
            let n = newConcepts.count
            concepts.reserve(n * dc)
            matmul(concepts.pointer, lane.conceptIn.pointer, weights.poolUp, m: n, pool: pool)
            if let poolFirst = weights.poolFirst {
                // c = pool.up · mean + pool.first · h_first, summed in that order as the reference does.
                let firsts = lane.conceptFirstUp
                firsts.reserve(n * dc)
                matmul(firsts.pointer, lane.conceptFirst.pointer, poolFirst, m: n, pool: pool)
                addScaled(concepts.pointer, firsts.pointer, alpha: 1, count: n * dc)
            }
            var groups = [RowGroup]()
            var start = 0
            while start < n {
                var end = start
                while end < n && newConcepts[end].item == newConcepts[start].item { end += 1 }
                groups.append(RowGroup(cache: sequence(newConcepts[start]).backbone, first: start, count: end - start))
                start = end
            }
            lane.backbone.forward(concepts.pointer, rows: n, groups: groups, pool: pool)
            for (ci, nc) in newConcepts.enumerated() {
                let s = sequence(nc)
                let z = concepts.pointer + ci * dc
                // z~_0 = z_0; later concepts blend with the previous smoothed one (docs/model.md §5).
                s.zPrev.withUnsafeMutableBufferPointer { zp in
                    if nc.slot == 0 {
                        zp.baseAddress!.update(from: z, count: dc)
                    } else {
                        let P = min(max(nc.p, 1e-4), 1 - 1e-4)
                        for e in 0..<dc { zp[e] = P * z[e] + (1 - P) * zp[e] }
                    }
                    z.update(from: zp.baseAddress!, count: dc)
                }
            }
            ck.reserve(n * d); cv.reserve(n * d)
            matmul(ck.pointer, concepts.pointer, weights.cross.wk, m: n, pool: pool)
            matmul(cv.pointer, concepts.pointer, weights.cross.wv, m: n, pool: pool)
            let hd = c.crossHeadDim
            weights.cross.kNorm.withUnsafeBufferPointer { nw in
                rmsnorm(ck.pointer, ck.pointer, weight: nw.baseAddress!, dim: hd, rows: n * c.crossNHeads, eps: c.normEps)   // per head
            }
            for (ci, nc) in newConcepts.enumerated() {
                let s = sequence(nc)
                let slot = nc.slot
                s.crossK.reserve((slot + 1) * d, keep: slot * d)
                s.crossV.reserve((slot + 1) * d, keep: slot * d)
                (s.crossK.pointer + slot * d).update(from: ck.pointer + ci * d, count: d)
                (s.crossV.pointer + slot * d).update(from: cv.pointer + ci * d, count: d)
            }
        }

        _ = lane.profile.add(.backbone, since: t)
    }

    /// Stage 3: cross-attention over completed concepts, decoder, LM head on the requested rows.
    /// - Parameter head: runs the LM head so that other threads can help (see `split`); else it
    ///   runs on `pool`.
    private func finish(_ state: PassState, lane: ForwardLane, pool: ThreadPool?, head: SharedMatmul? = nil) -> [ForwardOutput] {
        let c = config, d = c.dToken
        let batch = state.batch, rows = state.rows, firstRow = state.firstRow
        let u = lane.u, lastRows = lane.lastRows, logitBuffer = lane.logitBuffer
        var outputs = state.outputs
        var t = monotonicNanoseconds()
        // Each token attends the null concept and the concepts completed before it, with the
        // log-multiplicity bias in replicated mode; then the cross FFN.
        crossAttention(h: UnsafePointer(lane.x.pointer), rows: rows, batch: batch, firstRow: firstRow, visible: state.visible,
                       currentMult: state.currentMult, lane: lane, pool: pool)
        t = lane.profile.add(.cross, since: t)
        lane.decoder.forward(u.pointer, rows: rows, groups: batch.enumerated().map {
            RowGroup(cache: $1.sequence.decoder, first: firstRow[$0], count: $1.tokens.count)
        }, pool: pool)
        t = lane.profile.add(.decoder, since: t)
        var selected = [(item: Int, row: Int)]()
        for (i, item) in batch.enumerated() {
            if item.allLogits {
                for j in 0..<item.tokens.count { selected.append((i, firstRow[i] + j)) }
            } else {
                selected.append((i, firstRow[i] + item.tokens.count - 1))
            }
        }
        lastRows.reserve(selected.count * d)
        for (k, sel) in selected.enumerated() {
            (lastRows.pointer + k * d).update(from: u.pointer + sel.row * d, count: d)
        }
        let vocab = c.vocabSize
        logitBuffer.reserve(selected.count * vocab)
        if let head {
            head.run(logitBuffer.pointer, lastRows.pointer, weights.lmHead, m: selected.count)
        } else {
            matmul(logitBuffer.pointer, lastRows.pointer, weights.lmHead, m: selected.count, pool: pool)
        }
        for (k, sel) in selected.enumerated() {
            let row = logitBuffer.pointer + k * vocab
            outputs[sel.item].logits.append([Float](unsafeUninitializedCapacity: vocab) { buf, count in
                for e in 0..<vocab { buf[e] = row[e] * c.logitScale }
                count = vocab
            })
        }
        for item in batch { item.sequence.length += item.tokens.count }
        _ = lane.profile.add(.head, since: t)
        lane.profile.count(tokens: rows, concepts: state.newConcepts.count)
        return outputs
    }

    /// Tokens 0..<n of u: h + cross-attention, then the cross FFN. Writes `u`.
    private func crossAttention(h: UnsafePointer<Float>, rows: Int, batch: [BatchItem], firstRow: [Int],
                                visible: [Int], currentMult: [Int32], lane: ForwardLane, pool: ThreadPool?) {
        let c = config, d = c.dToken, nh = c.crossNHeads, hd = c.crossHeadDim, ffn = c.crossFFNDim
        let f1 = lane.f1, f3 = lane.f3
        lane.cq.reserve(rows * d); lane.att.reserve(rows * d); lane.u.reserve(rows * d); lane.un.reserve(rows * d)
        f1.reserve(rows * ffn); f3.reserve(rows * ffn)
        let cq = lane.cq.pointer, att = lane.att.pointer, u = lane.u.pointer, un = lane.un.pointer
        matmul(cq, h, weights.cross.wq, m: rows, pool: pool)
        weights.cross.qNorm.withUnsafeBufferPointer { nw in
            rmsnorm(cq, cq, weight: nw.baseAddress!, dim: hd, rows: rows * nh, eps: c.normEps)   // per head
        }
        var rowSeq = [SequenceState](); rowSeq.reserveCapacity(rows)
        for item in batch { for _ in item.tokens { rowSeq.append(item.sequence) } }
        let scale = 1 / Float(hd).squareRoot()
        let replicated = c.conceptAttention == .replicated
        nullK.withUnsafeBufferPointer { nk in
            nullV.withUnsafeBufferPointer { nv in
                let body: (Range<Int>) -> Void = { range in
                    for item in range {
                        let r = item / nh, hh = item % nh
                        let s = rowSeq[r]
                        let n = visible[r] + 1              // null + completed concepts
                        let qh = cq + r * d + hh * hd, out = att + r * d + hh * hd
                        withUnsafeTemporaryAllocation(of: Float.self, capacity: n) { sb in
                            let sc = sb.baseAddress!
                            sc[0] = dot(qh, nk.baseAddress! + hh * hd, count: hd) * scale
                            attentionScores(sc + 1, q: qh, keys: s.crossK.pointer + hh * hd, stride: d, n: n - 1, headDim: hd, scale: scale)
                            if replicated {
                                for ci in 0..<(n - 1) { sc[ci] += logf(Float(s.segLengths[ci])) }
                                sc[n - 1] += logf(Float(currentMult[r]))
                            }
                            softmax(sc, length: n)
                            attentionValues(out, weights: sc + 1, values: s.crossV.pointer + hh * hd, stride: d, n: n - 1, headDim: hd)
                            addScaled(out, nv.baseAddress! + hh * hd, alpha: sc[0], count: hd)
                        }
                    }
                }
                if let pool, rows * nh >= 32 { pool.parallelFor(rows * nh, body) } else { body(0..<(rows * nh)) }
            }
        }
        u.update(from: h, count: rows * d)
        matmul(u, att, weights.cross.wo, m: rows, accumulate: true, pool: pool)
        weights.cross.ffnNorm.withUnsafeBufferPointer { nw in
            rmsnorm(un, u, weight: nw.baseAddress!, dim: d, rows: rows, eps: c.normEps)
        }
        matmul(f1.pointer, un, weights.cross.w1, m: rows, pool: pool)
        matmul(f3.pointer, un, weights.cross.w3, m: rows, pool: pool)
        siluMul(f1.pointer, f1.pointer, f3.pointer, count: rows * ffn)
        matmul(u, f1.pointer, weights.cross.w2, m: rows, accumulate: true, pool: pool)
    }

    private func validate(_ batch: [BatchItem]) throws {
        guard !batch.isEmpty else { throw ModelError.invalidArgument("empty batch") }
        var seen = Set<ObjectIdentifier>()
        for item in batch {
            guard !item.tokens.isEmpty else { throw ModelError.invalidArgument("a batch item has no tokens") }
            guard seen.insert(ObjectIdentifier(item.sequence)).inserted else {
                throw ModelError.invalidArgument("a sequence appears twice in one batch")
            }
            let need = item.sequence.length + item.tokens.count
            guard need <= config.maxSeqLen else {
                throw ModelError.contextLengthExceeded(limit: config.maxSeqLen, requested: need)
            }
            for t in item.tokens where t < 0 || Int(t) >= config.vocabSize { throw ModelError.invalidToken(t) }
            if let b = item.boundaries, b.count != item.tokens.count {
                throw ModelError.invalidArgument("\(b.count) forced boundaries for \(item.tokens.count) tokens")
            }
        }
    }
}

/// p = clamp(0.5 * (1 - cos(q_prev, k)), 0, 1), the cosine with PyTorch's epsilon on each norm.
@inline(__always)
func boundaryProbability(_ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>, _ n: Int) -> Float {
    let qq = dot(q, q, count: n).squareRoot(), kk = dot(k, k, count: n).squareRoot()
    let cosine = dot(q, k, count: n) / (max(qq, 1e-8) * max(kk, 1e-8))
    return min(max(0.5 * (1 - cosine), 0), 1)
}
