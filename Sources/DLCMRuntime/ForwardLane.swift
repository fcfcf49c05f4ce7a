import Kernels

/// What one forward pass writes besides the sequences' caches: the three stacks (their scratch;
/// the weights are shared) and the pass's own buffers, grown to the largest batch seen. The model
/// keeps one per thread so that parts of a batch can run at once (`DLCMModel.forward`).
final class ForwardLane {
    let encoder: TransformerStack
    let backbone: TransformerStack
    let decoder: TransformerStack
    let x = FloatBuffer()          // (rows, d_token) encoder in -> h
    let rq = FloatBuffer()         // (rows, d_scan)
    let rk = FloatBuffer()         // (rows, d_scan)
    let conceptIn = FloatBuffer()  // (concepts, d_token) segment means
    let conceptFirst = FloatBuffer() // (concepts, d_token) segments' first states (pooling mean+first)
    let conceptFirstUp = FloatBuffer() // (concepts, d_concept) pool.first · first states
    let concepts = FloatBuffer()   // (concepts, d_concept) backbone in -> z -> z~
    let ck = FloatBuffer()         // (concepts, d_token)
    let cv = FloatBuffer()         // (concepts, d_token)
    let cq = FloatBuffer()         // (rows, d_token)
    let att = FloatBuffer()        // (rows, d_token)
    let u = FloatBuffer()          // (rows, d_token) cross output -> decoder
    let un = FloatBuffer()         // (rows, d_token)
    let f1 = FloatBuffer()         // (rows, cross_ffn)
    let f3 = FloatBuffer()         // (rows, cross_ffn)
    let lastRows = FloatBuffer()   // (selected rows, d_token)
    let logitBuffer = FloatBuffer() // (selected rows, vocab)
    /// Time per stage of this lane's passes.
    var profile = ForwardProfile()

    init(config c: DLCMConfig, weights: DLCMWeights, cacheElement: CacheElement = .standard) {
        encoder = TransformerStack(weights: weights.encoder, config: c.encoder, width: c.dToken, eps: c.normEps,
                                   ropeTheta: c.ropeTheta, maxPositions: c.maxSeqLen, cacheElement: cacheElement)
        backbone = TransformerStack(weights: weights.backbone, config: c.backbone, width: c.dConcept, eps: c.normEps,
                                    ropeTheta: c.ropeTheta, maxPositions: c.maxSeqLen, cacheElement: cacheElement)
        decoder = TransformerStack(weights: weights.decoder, config: c.decoder, width: c.dToken, eps: c.normEps,
                                   ropeTheta: c.ropeTheta, maxPositions: c.maxSeqLen, cacheElement: cacheElement)
    }

    var bytes: Int {
        encoder.scratchBytes + backbone.scratchBytes + decoder.scratchBytes
            + [x, rq, rk, conceptIn, conceptFirst, conceptFirstUp, concepts, ck, cv, cq, att, u, un, f1, f3, lastRows, logitBuffer].reduce(0) { $0 + $1.bytes }
    }
}
