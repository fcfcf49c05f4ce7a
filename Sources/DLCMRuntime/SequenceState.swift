/// Everything the model remembers about one sequence between passes (docs/model.md §9):
/// the three stacks' KV caches, the router's previous q, the open segment, the smoothed-concept
/// state and the cross-attention K/V of every completed concept. Owned by one model; used only
/// on the thread that calls the model.
public final class SequenceState {
    /// Tokens consumed so far.
    public internal(set) var length = 0

    let encoder: KVCache
    let backbone: KVCache
    let decoder: KVCache
    /// Router q of the previous token. (d_scan)
    var qPrev: [Float]
    /// Sum of the open segment's encoder states. (d_token)
    var segSum: [Float]
    /// Encoder state of the open segment's first token (read with pooling mean+first). (d_token)
    var segFirst: [Float]
    /// Tokens in the open segment (0 before the first token).
    var segLen = 0
    /// Boundary probability of the open segment's first token.
    var pOpen: Float = 1
    /// Token count of every completed segment, in order: also the replicated-mode multiplicity
    /// of concept index c (c = 0 is the null concept, seen by segment 0's tokens).
    var segLengths: [Int32] = []
    /// The last smoothed concept z~. (d_concept)
    var zPrev: [Float]
    /// Cross-attention keys (QK-normed) and values of completed concepts 1..n. (n, d_token) each;
    /// the null concept's are the model's.
    let crossK = FloatBuffer()
    let crossV = FloatBuffer()

    init(config: DLCMConfig, encoder: KVCache, backbone: KVCache, decoder: KVCache) {
        self.encoder = encoder
        self.backbone = backbone
        self.decoder = decoder
        qPrev = [Float](repeating: 0, count: config.dScan)
        segSum = [Float](repeating: 0, count: config.dToken)
        segFirst = [Float](repeating: 0, count: config.dToken)
        zPrev = [Float](repeating: 0, count: config.dConcept)
    }

    /// A copy that continues on its own: the n samples of one prompt read it once and fork.
    public func fork() -> SequenceState {
        let s = SequenceState(encoder: encoder.copy(), backbone: backbone.copy(), decoder: decoder.copy(),
                              qPrev: qPrev, segSum: segSum, segFirst: segFirst, zPrev: zPrev)
        s.length = length
        s.segLen = segLen
        s.pOpen = pOpen
        s.segLengths = segLengths
        let used = segLengths.count * segSum.count   // (concepts, d_token)
        s.crossK.reserve(used); s.crossV.reserve(used)
        s.crossK.pointer.update(from: crossK.pointer, count: used)
        s.crossV.pointer.update(from: crossV.pointer, count: used)
        return s
    }

    private init(encoder: KVCache, backbone: KVCache, decoder: KVCache, qPrev: [Float], segSum: [Float], segFirst: [Float],
                 zPrev: [Float]) {
        self.encoder = encoder
        self.backbone = backbone
        self.decoder = decoder
        self.qPrev = qPrev
        self.segSum = segSum
        self.segFirst = segFirst
        self.zPrev = zPrev
    }

    /// Completed concepts (backbone steps taken).
    public var conceptCount: Int { segLengths.count }

    /// Makes room in the token caches (encoder, decoder) for `tokens` positions at once, so a
    /// sequence whose final length is known does not grow them step by step (each growth is a
    /// copy, and the freed blocks fragment the heap under many sequences). The backbone's cache
    /// holds one position per concept, a number not known ahead: it still grows.
    public func reserve(tokens: Int) {
        // A windowed cache keeps only its window's rows: it never needs the whole length.
        for cache in [encoder, decoder] where cache.window == 0 { cache.reserve(positions: tokens) }
    }

    /// Bytes held by this sequence's caches.
    public var memoryBytes: Int {
        encoder.bytes + backbone.bytes + decoder.bytes + crossK.bytes + crossV.bytes
            + 4 * (qPrev.count + segSum.count + segFirst.count + zPrev.count + segLengths.count)
    }
}
