import Foundation

/// One transformer stack's shape (encoder, backbone or decoder).
public struct StackConfig: Codable, Sendable, Equatable {
    public var nLayers: Int
    public var nHeads: Int
    public var nKVHeads: Int
    public var ffnDim: Int
    /// Self-attention sees at most this many positions, its own included (a sliding window);
    /// 0, or absent from config.json: every earlier position.
    public var window: Int

    enum CodingKeys: String, CodingKey {
        case nLayers = "n_layers", nHeads = "n_heads", nKVHeads = "n_kv_heads", ffnDim = "ffn_dim", window
    }

    public init(nLayers: Int, nHeads: Int, nKVHeads: Int, ffnDim: Int, window: Int = 0) {
        self.nLayers = nLayers; self.nHeads = nHeads; self.nKVHeads = nKVHeads; self.ffnDim = ffnDim; self.window = window
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nLayers = try c.decode(Int.self, forKey: .nLayers)
        nHeads = try c.decode(Int.self, forKey: .nHeads)
        nKVHeads = try c.decode(Int.self, forKey: .nKVHeads)
        ffnDim = try c.decode(Int.self, forKey: .ffnDim)
        window = try c.decodeIfPresent(Int.self, forKey: .window) ?? 0
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(nLayers, forKey: .nLayers)
        try c.encode(nHeads, forKey: .nHeads)
        try c.encode(nKVHeads, forKey: .nKVHeads)
        try c.encode(ffnDim, forKey: .ffnDim)
        if window > 0 { try c.encode(window, forKey: .window) }   // full attention: no field, as the recipe writes
    }

    /// The first position a query at `position` attends.
    @inline(__always) func firstAttended(by position: Int) -> Int {
        window > 0 ? max(0, position + 1 - window) : 0
    }
}

/// How tokens weigh the concepts they attend (weights/FORMAT.md, "Cross-attention").
public enum ConceptAttention: String, Codable, Sendable {
    /// The paper's semantics: each concept counts once per token of its segment (log-count bias).
    case replicated
    /// Each completed concept counts once.
    case unique
}

/// What a concept is made of, before the backbone (weights/FORMAT.md, "Pooling").
public enum Pooling: String, Codable, Sendable {
    /// `pool.up · mean(h)` over the segment's encoder states.
    case mean
    /// `pool.up · mean(h) + pool.first · h_first`: also the state of the token the router cut
    /// at, so where a concept starts is part of what it says.
    case meanFirst = "mean+first"
}

/// config.json of a DLCM checkpoint (weights/FORMAT.md).
public struct DLCMConfig: Codable, Sendable, Equatable {
    public var modelType: String
    public var formatVersion: Int
    public var vocabSize: Int
    public var dToken: Int
    public var dConcept: Int
    public var dBase: Int
    public var encoder: StackConfig
    public var backbone: StackConfig
    public var decoder: StackConfig
    public var crossNHeads: Int
    public var crossFFNDim: Int
    public var dScan: Int
    public var ropeTheta: Double
    public var normEps: Float
    public var threshold: Float
    public var targetR: Double
    public var conceptAttention: ConceptAttention
    public var maxSeqLen: Int
    public var eotTokenID: Int32
    public var logitScale: Float
    /// `float32`, `bfloat16`, `float16`, or quantized: `q8_0`, `q4_0` (weights/FORMAT.md).
    public var dtype: String
    /// Weights per quantization block of a quantized checkpoint (32); absent in float ones.
    public var quantBlock: Int?
    /// config.json's `pooling`; absent in checkpoints made before it existed (= mean).
    var poolingField: Pooling?
    public var pooling: Pooling { poolingField ?? .mean }

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", formatVersion = "format_version", vocabSize = "vocab_size"
        case dToken = "d_token", dConcept = "d_concept", dBase = "d_base"
        case encoder, backbone, decoder
        case crossNHeads = "cross_n_heads", crossFFNDim = "cross_ffn_dim", dScan = "d_scan"
        case ropeTheta = "rope_theta", normEps = "norm_eps", threshold, targetR = "target_r"
        case conceptAttention = "concept_attention", maxSeqLen = "max_seq_len"
        case eotTokenID = "eot_token_id", logitScale = "logit_scale", dtype, quantBlock = "quant_block"
        case poolingField = "pooling"
    }

    /// The dtypes of quantized checkpoints.
    public static let quantizedDTypes = ["q8_0", "q4_0"]

    /// Whether `dtype` is a quantized one: every matrix is stored as codes plus block scales.
    public var isQuantized: Bool { Self.quantizedDTypes.contains(dtype) }

    public static func load(from url: URL) throws -> DLCMConfig {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ModelError.config("cannot read \(url.path): \(error.localizedDescription)")
        }
        let config: DLCMConfig
        do { config = try JSONDecoder().decode(DLCMConfig.self, from: data) } catch let DecodingError.keyNotFound(key, _) {
            throw ModelError.config("\(url.lastPathComponent): missing field '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx) {
            let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw ModelError.config("\(url.lastPathComponent): field '\(path)' has the wrong type")
        } catch let DecodingError.dataCorrupted(ctx) {
            let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw ModelError.config("\(url.lastPathComponent): \(path.isEmpty ? "" : "field '\(path)': ")\(ctx.debugDescription)")
        } catch {
            throw ModelError.config("\(url.lastPathComponent): \(error)")
        }
        try config.validate()
        return config
    }

    /// Throws naming the first field that cannot describe a servable model.
    public func validate() throws {
        func check(_ ok: Bool, _ field: String, _ why: String) throws {
            if !ok { throw ModelError.config("config field '\(field)' \(why)") }
        }
        try check(modelType == "dlcm", "model_type", "must be \"dlcm\", got \"\(modelType)\"")
        try check(formatVersion == 1, "format_version", "must be 1, got \(formatVersion)")
        try check(vocabSize > 0, "vocab_size", "must be positive")
        try check(dToken > 0 && dToken % 2 == 0, "d_token", "must be positive and even")
        try check(dConcept > 0 && dConcept % 2 == 0, "d_concept", "must be positive and even")
        try check(dBase > 0, "d_base", "must be positive")
        for (name, s, width) in [("encoder", encoder, dToken), ("backbone", backbone, dConcept), ("decoder", decoder, dToken)] {
            try check(s.nLayers > 0, "\(name).n_layers", "must be positive")
            try check(s.nHeads > 0 && width % s.nHeads == 0, "\(name).n_heads", "must divide the width \(width)")
            try check((width / s.nHeads) % 2 == 0, "\(name).n_heads", "must leave an even head dim for RoPE")
            try check(s.nKVHeads > 0 && s.nHeads % s.nKVHeads == 0, "\(name).n_kv_heads", "must divide n_heads")
            try check(s.ffnDim > 0, "\(name).ffn_dim", "must be positive")
            try check(s.window >= 0, "\(name).window", "must be 0 (every position) or positive")
        }
        // The backbone reads concepts, whose spacing varies: a window over them is not a model
        // the recipe defines.
        try check(backbone.window == 0, "backbone.window", "must be 0: only the token stacks (encoder, decoder) may be windowed")
        try check(crossNHeads > 0 && dToken % crossNHeads == 0, "cross_n_heads", "must divide d_token")
        try check(crossFFNDim > 0, "cross_ffn_dim", "must be positive")
        try check(dScan > 0, "d_scan", "must be positive")
        try check(ropeTheta > 0, "rope_theta", "must be positive")
        try check(normEps > 0 && normEps < 1, "norm_eps", "must be in (0, 1)")
        try check(threshold > 0 && threshold <= 1, "threshold", "must be in (0, 1]")
        try check(targetR >= 1, "target_r", "must be at least 1")
        try check(maxSeqLen > 0 && maxSeqLen <= 1 << 20, "max_seq_len", "must be in 1...\(1 << 20)")
        try check(eotTokenID >= 0 && Int(eotTokenID) < vocabSize, "eot_token_id", "must be a token id below vocab_size")
        try check(logitScale.isFinite && logitScale > 0, "logit_scale", "must be a positive number")
        try check(["float32", "bfloat16", "float16"].contains(dtype) || isQuantized, "dtype",
                  "must be float32, bfloat16, float16, q8_0 or q4_0")
        if isQuantized {
            // Blocks run along each matrix's input width; these are all the input widths there are.
            try check(quantBlock == 32, "quant_block", "must be 32 for dtype \(dtype)")
            for (field, width) in [("d_token", dToken), ("d_concept", dConcept), ("encoder.ffn_dim", encoder.ffnDim),
                                   ("backbone.ffn_dim", backbone.ffnDim), ("decoder.ffn_dim", decoder.ffnDim),
                                   ("cross_ffn_dim", crossFFNDim)] {
                try check(width % 32 == 0, field, "must be a multiple of quant_block 32 for dtype \(dtype), got \(width)")
            }
        }
    }

    public var crossHeadDim: Int { dToken / crossNHeads }
}
