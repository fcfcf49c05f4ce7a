import Kernels
import SafeTensors

/// A tensor as a weight file holds it: element type, shape, and where its bytes are.
public struct TensorView: @unchecked Sendable {
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    public let data: UnsafeRawPointer

    public init(dtype: SafeTensorsDType, shape: [Int], data: UnsafeRawPointer) {
        self.dtype = dtype; self.shape = shape; self.data = data
    }
}

/// Where the runtime reads tensors from (a memory-mapped safetensors file in practice). The
/// source must outlive the model: the model keeps pointers into it.
public protocol TensorSource: AnyObject, Sendable {
    var tensorNames: [String] { get }
    func tensor(named name: String) -> TensorView?
}

struct LayerWeights {
    let attnNorm: [Float]
    let wq, wk, wv, wo: WeightMatrix
    let ffnNorm: [Float]
    let w1, w2, w3: WeightMatrix
}

struct StackWeights {
    let layers: [LayerWeights]
    let norm: [Float]
}

struct CrossWeights {
    let wq, wk, wv, wo: WeightMatrix
    let qNorm, kNorm, ffnNorm: [Float]
    let w1, w2, w3: WeightMatrix
}

/// Every tensor of a DLCM, checked against the config: a missing, unexpected or misshapen tensor
/// is an error that names it.
struct DLCMWeights {
    let embed: WeightMatrix               // (vocab, d_token)
    let encoder, backbone, decoder: StackWeights
    let routerWq, routerWk: WeightMatrix  // (d_scan, d_token)
    let poolUp: WeightMatrix              // (d_concept, d_token)
    let poolFirst: WeightMatrix?          // (d_concept, d_token), with pooling mean+first only
    let conceptNull: [Float]              // (d_concept)
    let cross: CrossWeights
    let lmHead: WeightMatrix              // (vocab, d_token)

    /// - Parameter packer: when given, every matrix that goes through matmul is also packed for
    ///   the micro-kernel (a copy held by `packer`; see PackedWeights.swift).
    /// - Parameter quantizedProducts: how matvec multiplies quantized matrices (QuantizedDot.swift).
    init(config c: DLCMConfig, source: TensorSource, packer: PackedWeights? = nil,
         quantizedProducts: QuantizedProducts = .preferred) throws {
        var used = Set<String>()
        let type = Self.weightType(c)
        // Float checkpoints hold every tensor in `dtype`; quantized ones keep 1-D tensors in f32.
        let floatType: WeightType = type.isQuantized ? .f32 : type

        func view(_ name: String, _ shape: [Int], _ dtype: SafeTensorsDType) throws -> TensorView {
            guard let t = source.tensor(named: name) else { throw ModelError.weights("missing tensor '\(name)'") }
            guard t.shape == shape else {
                throw ModelError.weights("tensor '\(name)' has shape \(t.shape), the config needs \(shape)")
            }
            guard t.dtype == dtype else {
                throw ModelError.weights("tensor '\(name)' is \(Self.describe(t.dtype)), config.json says dtype \(c.dtype)"
                                         + (type.isQuantized ? " (it needs \(dtype.rawValue))" : ""))
            }
            used.insert(name)
            return t
        }
        /// `conceptLevel`: applied to the concepts a step closes (a few rows, weights read once a
        /// step and rarely in cache then): with f16 weights, packed as f32, up to 4 rows stay on
        /// matvec, which reads half the bytes (measured with bf16 packed as f32: a 16-stream step
        /// 7-8% slower on the packed kernel). bf16 weights are packed as bf16 pairs, the same
        /// bytes as matvec's: there the packed kernel costs the same for one concept row and
        /// less for more (backbone pass of a decode lane, 3 / 4 rows: 92 / 97 us against 112 /
        /// 139 on matvec).
        func matrix(_ name: String, _ rows: Int, _ cols: Int, lookupOnly: Bool = false, conceptLevel: Bool = false) throws -> WeightMatrix {
            if type.isQuantized {
                // NAME.q codes and NAME.scale, read in place: never packed (PackedWeights.pack),
                // so the model holds about the file's bytes.
                let q = try view(name + ".q", [rows, type.rowBytes(cols)], type == .q8_0 ? .i8 : .u8)
                let scale = try view(name + ".scale", [rows, cols / quantBlock], .f16)
                var w = WeightMatrix(base: q.data, type: type, rows: rows, cols: cols, scales: scale.data)
                w.quantizedProducts = quantizedProducts
                return w
            }
            let t = try view(name, [rows, cols], Self.dtype(of: type))
            var w = WeightMatrix(base: t.data, type: type, rows: rows, cols: cols)
            if conceptLevel && type == .f16 { w.matvecMaxRows = maxMatvecRows }
            guard let packer, !lookupOnly else { return w }
            return packer.pack(w)
        }
        func vector(_ name: String, _ n: Int) throws -> [Float] {
            let t = try view(name, [n], Self.dtype(of: floatType))
            return [Float](unsafeUninitializedCapacity: n) { buf, count in
                convertToFloat(buf.baseAddress!, t.data, type: floatType, count: n)
                count = n
            }
        }
        func stack(_ prefix: String, _ s: StackConfig, width d: Int, conceptLevel: Bool = false) throws -> StackWeights {
            let hd = d / s.nHeads
            let layers = try (0..<s.nLayers).map { i -> LayerWeights in
                let p = "\(prefix).layers.\(i)."
                return LayerWeights(
                    attnNorm: try vector(p + "attn_norm.weight", d),
                    wq: try matrix(p + "attn.wq.weight", s.nHeads * hd, d, conceptLevel: conceptLevel),
                    wk: try matrix(p + "attn.wk.weight", s.nKVHeads * hd, d, conceptLevel: conceptLevel),
                    wv: try matrix(p + "attn.wv.weight", s.nKVHeads * hd, d, conceptLevel: conceptLevel),
                    wo: try matrix(p + "attn.wo.weight", d, s.nHeads * hd, conceptLevel: conceptLevel),
                    ffnNorm: try vector(p + "ffn_norm.weight", d),
                    w1: try matrix(p + "ffn.w1.weight", s.ffnDim, d, conceptLevel: conceptLevel),
                    w2: try matrix(p + "ffn.w2.weight", d, s.ffnDim, conceptLevel: conceptLevel),
                    w3: try matrix(p + "ffn.w3.weight", s.ffnDim, d, conceptLevel: conceptLevel))
            }
            return StackWeights(layers: layers, norm: try vector("\(prefix).norm.weight", d))
        }

        let d = c.dToken, dc = c.dConcept
        embed = try matrix("embed.weight", c.vocabSize, d, lookupOnly: true)
        encoder = try stack("encoder", c.encoder, width: d)
        backbone = try stack("backbone", c.backbone, width: dc, conceptLevel: true)
        decoder = try stack("decoder", c.decoder, width: d)
        routerWq = try matrix("router.wq.weight", c.dScan, d)
        routerWk = try matrix("router.wk.weight", c.dScan, d)
        poolUp = try matrix("pool.up.weight", dc, d, conceptLevel: true)
        poolFirst = c.pooling == .meanFirst ? try matrix("pool.first.weight", dc, d, conceptLevel: true) : nil
        conceptNull = try vector("concept.null", dc)
        cross = CrossWeights(
            wq: try matrix("cross.wq.weight", d, d),
            wk: try matrix("cross.wk.weight", d, dc, conceptLevel: true),
            wv: try matrix("cross.wv.weight", d, dc, conceptLevel: true),
            wo: try matrix("cross.wo.weight", d, d),
            qNorm: try vector("cross.q_norm.weight", c.crossHeadDim),
            kNorm: try vector("cross.k_norm.weight", c.crossHeadDim),
            ffnNorm: try vector("cross.ffn_norm.weight", d),
            w1: try matrix("cross.ffn.w1.weight", c.crossFFNDim, d),
            w2: try matrix("cross.ffn.w2.weight", d, c.crossFFNDim),
            w3: try matrix("cross.ffn.w3.weight", c.crossFFNDim, d))
        lmHead = try matrix("lm_head.weight", c.vocabSize, d)

        let unexpected = source.tensorNames.filter { !used.contains($0) }.sorted()
        if let first = unexpected.first {
            throw ModelError.weights("unexpected tensor '\(first)'" + (unexpected.count > 1 ? " (and \(unexpected.count - 1) more)" : ""))
        }
    }

    /// How the config's `dtype` stores matrices (the config is validated).
    static func weightType(_ c: DLCMConfig) -> WeightType {
        switch c.dtype {
        case "bfloat16": return .bf16
        case "float16": return .f16
        case "q8_0": return .q8_0
        case "q4_0": return .q4_0
        default: return .f32
        }
    }

    /// The file dtype of a float weight type.
    static func dtype(of type: WeightType) -> SafeTensorsDType {
        switch type {
        case .bf16: return .bf16
        case .f16: return .f16
        default: return .f32
        }
    }

    /// A file dtype in the words of config.json's `dtype` where there is one ("bf16", "I8").
    static func describe(_ dtype: SafeTensorsDType) -> String {
        switch dtype {
        case .f32: return "f32"
        case .bf16: return "bf16"
        case .f16: return "f16"
        case .i8, .u8: return dtype.rawValue
        }
    }
}
