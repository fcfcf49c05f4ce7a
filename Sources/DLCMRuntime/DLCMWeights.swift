import Kernels

/// A tensor as a weight file holds it: element type, shape, and where its bytes are.
public struct TensorView: @unchecked Sendable {
    public let type: WeightType
    public let shape: [Int]
    public let data: UnsafeRawPointer

    public init(type: WeightType, shape: [Int], data: UnsafeRawPointer) {
        self.type = type; self.shape = shape; self.data = data
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
    let conceptNull: [Float]              // (d_concept)
    let cross: CrossWeights
    let lmHead: WeightMatrix              // (vocab, d_token)

    /// - Parameter packer: when given, every matrix that goes through matmul is also packed for
    ///   the micro-kernel (a copy held by `packer`; see PackedWeights.swift).
    init(config c: DLCMConfig, source: TensorSource, packer: PackedWeights? = nil) throws {
        var used = Set<String>()
        let expectedType: WeightType = switch c.dtype {
        case "bfloat16": .bf16
        case "float16": .f16
        default: .f32
        }

        func view(_ name: String, _ shape: [Int]) throws -> TensorView {
            guard let t = source.tensor(named: name) else { throw ModelError.weights("missing tensor '\(name)'") }
            guard t.shape == shape else {
                throw ModelError.weights("tensor '\(name)' has shape \(t.shape), the config needs \(shape)")
            }
            guard t.type == expectedType else {
                throw ModelError.weights("tensor '\(name)' is \(t.type), config.json says dtype \(c.dtype)")
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
            let t = try view(name, [rows, cols])
            var w = WeightMatrix(base: t.data, type: t.type, rows: rows, cols: cols)
            if conceptLevel && t.type == .f16 { w.matvecMaxRows = maxMatvecRows }
            guard let packer, !lookupOnly else { return w }
            return packer.pack(w)
        }
        func vector(_ name: String, _ n: Int) throws -> [Float] {
            let t = try view(name, [n])
            return [Float](unsafeUninitializedCapacity: n) { buf, count in
                convertToFloat(buf.baseAddress!, t.data, type: t.type, count: n)
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
}
