import Foundation
import Kernels
import SafeTensors
import Testing
@testable import DLCMRuntime

/// q8_0 / q4_0 checkpoints (weights/FORMAT.md, "Quantized checkpoints"): the Swift converter
/// against weights/recipe/quantize.py, loading, and what a quantized model computes. Fixtures from
/// `make_vectors.py quant`: tiny-quant (f32), tiny-quant-<type> (quantize.py), and
/// tiny-quant-<type>-dequantized (quantize.py --dequantize: f32 of the dequantized weights).
@Suite struct QuantizedCheckpointTests {
    static let types = ["q8_0", "q4_0"]

    static func weightType(_ name: String) -> WeightType { name == "q8_0" ? .q8_0 : .q4_0 }

    func scratchDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dlcm-quant-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func jsonObject(_ url: URL) throws -> NSDictionary {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! NSDictionary
    }

    @Test(arguments: types)
    func swiftConverterWritesTheRecipesBytes(type: String) throws {
        let out = try scratchDirectory().appendingPathComponent("out")
        let summary = try CheckpointQuantizer.quantize(from: Fixtures.directory("tiny-quant"), to: out, as: Self.weightType(type))
        let expected = Fixtures.directory("tiny-quant-\(type)")
        let ours = try Data(contentsOf: out.appendingPathComponent("model.safetensors"))
        let theirs = try Data(contentsOf: expected.appendingPathComponent("model.safetensors"))
        #expect(ours.count == theirs.count)
        let firstDifference = zip(ours, theirs).enumerated().first { $1.0 != $1.1 }?.offset ?? -1
        #expect(ours == theirs, "model.safetensors differs from quantize.py's at byte \(firstDifference)")
        // config.json: the same text (the input's, dtype set and quant_block added after it).
        let ourConfig = try String(contentsOf: out.appendingPathComponent("config.json"), encoding: .utf8)
        let theirConfig = try String(contentsOf: expected.appendingPathComponent("config.json"), encoding: .utf8)
        #expect(ourConfig == theirConfig)
        #expect(try jsonObject(out.appendingPathComponent("config.json"))["quant_block"] as? Int == 32)
        #expect(summary.outputBytes == theirs.count && summary.inputBytes > summary.outputBytes)
        let written = try SafeTensorsFile(path: out.appendingPathComponent("model.safetensors").path)
        #expect(!summary.copiedTokenizer && summary.vectors + 2 * summary.matrices == written.names.count)
    }

    @Test func tokenizerAndChatTemplateFilesAreCopied() throws {
        let input = try scratchDirectory().appendingPathComponent("in")
        try FileManager.default.copyItem(at: Fixtures.directory("tiny-quant"), to: input)
        let files = ["tokenizer.json": #"{"model": {"type": "BPE"}}"#, "tokenizer_config.json": #"{"chat_template": "T"}"#,
                     "chat_template.jinja": "{{ messages[0].content }}"]
        for (name, text) in files { try text.write(to: input.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        let out = try scratchDirectory().appendingPathComponent("out")
        let summary = try CheckpointQuantizer.quantize(from: input, to: out, as: .q8_0)
        #expect(summary.copiedTokenizer)
        #expect(Set(CheckpointQuantizer.companionFiles) == Set(files.keys))
        for (name, text) in files {
            #expect(try String(contentsOf: out.appendingPathComponent(name), encoding: .utf8) == text, "\(name)")
        }
    }

    @Test func configsOfAnotherLayoutAreWrittenAnew() throws {
        // No `"dtype": "..."` to edit in place (here: two of them, nested): same fields, written anew.
        let odd = Data(#"{"a": {"dtype": "x"}, "dtype": "float32", "rope_theta": 10000.0}"#.utf8)
        let written = try CheckpointQuantizer.quantizedConfig(odd, type: .q4_0)
        let object = try JSONSerialization.jsonObject(with: written) as! NSDictionary
        #expect(object == ["a": ["dtype": "x"], "dtype": "q4_0", "quant_block": 32, "rope_theta": 10000] as NSDictionary)
        // The recipe's layout: edited in place, nothing else moves.
        let recipe = Data("{\n  \"vocab_size\": 96,\n  \"dtype\": \"bfloat16\"\n}\n".utf8)
        let edited = try CheckpointQuantizer.quantizedConfig(recipe, type: .q8_0)
        #expect(String(decoding: edited, as: UTF8.self) == "{\n  \"vocab_size\": 96,\n  \"dtype\": \"q8_0\",\n  \"quant_block\": 32\n}\n")
    }

    @Test func converterRefusesWidthsThatAreNotMultiplesOf32() throws {
        // tiny-replicated has d_concept 48: the first such matrix by name is named, with its shape.
        let out = try scratchDirectory()
        var message = ""
        do { _ = try CheckpointQuantizer.quantize(from: Fixtures.directory("tiny-replicated"), to: out, as: .q8_0) } catch {
            message = "\(error)"
        }
        #expect(message.contains("tensor 'backbone.layers.0.attn.wk.weight' is [12, 48]"), "\(message)")
        #expect(message.hasSuffix("(nor 13 more)"), "\(message)")
        #expect(message.contains("not a multiple of 32"), "\(message)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("model.safetensors").path))
        // A quantized input, and the input as output, are refused too.
        #expect(throws: CheckpointQuantizer.Failure.self) {
            try CheckpointQuantizer.quantize(from: Fixtures.directory("tiny-quant-q8_0"), to: out, as: .q4_0)
        }
        #expect(throws: CheckpointQuantizer.Failure.self) {
            try CheckpointQuantizer.quantize(from: Fixtures.directory("tiny-quant"), to: Fixtures.directory("tiny-quant"), as: .q4_0)
        }
    }

    /// Prompts of random tokens (fixed seed), lengths around the kernels' row limits.
    static func prompts(vocab: Int) -> [[Int32]] {
        var state: UInt64 = 0x5EED
        func next() -> Int32 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int32((state >> 33) % UInt64(vocab - 1)) + 1
        }
        return [1, 3, 4, 5, 13, 40, 90].map { n in (0..<n).map { _ in next() } }
    }

    /// The quantized model computes what the f32 checkpoint of its dequantized weights computes:
    /// the same weights exactly, so differences are summation order only (the f32 model packs its
    /// matrices at load, the quantized one never does). Prefill of every prompt, then decode steps
    /// of all of them batched (7 rows: split over lanes with two threads). With the exact products;
    /// the int8 ones are checked against them below.
    @Test(arguments: types, [1, 2])
    func quantizedModelMatchesItsDequantizedCheckpoint(type: String, threads: Int) throws {
        let quantized = try DLCMModel.load(directory: Fixtures.directory("tiny-quant-\(type)"), threads: threads,
                                           quantizedProducts: .exact)
        let float = try DLCMModel.load(directory: Fixtures.directory("tiny-quant-\(type)-dequantized"), threads: threads)
        #expect(quantized.config.dtype == type && float.config.dtype == "float32")
        #expect(quantized.packedWeights?.bytes == 0, "quantized matrices are never packed")
        let prompts = Self.prompts(vocab: quantized.config.vocabSize)
        let qs = prompts.map { _ in quantized.newSequence() }, fs = prompts.map { _ in float.newSequence() }
        var qOut = try quantized.forward(zip(qs, prompts).map { BatchItem(sequence: $0, tokens: $1, allLogits: true) })
        var fOut = try float.forward(zip(fs, prompts).map { BatchItem(sequence: $0, tokens: $1, allLogits: true) })
        var worst: Float = 0
        for step in 0..<12 {
            for (k, (a, b)) in zip(qOut, fOut).enumerated() {
                #expect(a.boundaries == b.boundaries, "step \(step) sequence \(k)")
                #expect(maxAbsDiff(a.boundaryProbs, b.boundaryProbs) < 1e-4)
                for (x, y) in zip(a.logits, b.logits) { worst = max(worst, maxAbsDiff(x, y)) }
            }
            let next = fOut.map { argmax($0.logits.last!) }
            qOut = try quantized.forward(zip(qs, next).map { BatchItem(sequence: $0, tokens: [$1]) })
            fOut = try float.forward(zip(fs, next).map { BatchItem(sequence: $0, tokens: [$1]) })
        }
        #expect(worst < 1e-3, "\(type), \(threads) threads: logits differ by up to \(worst)")
        #expect(zip(qs, fs).allSatisfy { $0.conceptCount == $1.conceptCount })
    }

    /// Decode with int8 products (X rounded to int8 per block) stays close to decode with the
    /// exact ones: the same prompt, then the same 12 tokens fed one at a time to both, the
    /// boundaries forced to the exact model's. Where the CPU has the int8 kernels the logits must
    /// differ (or the int8 path was not taken). The bound, 2% of the largest logit, is what
    /// rounding X to 1/254 of each block's largest element allows after a few layers.
    @Test(arguments: types)
    func int8ProductsDecodeCloseToTheExactOnes(type: String) throws {
        let dir = Fixtures.directory("tiny-quant-\(type)")
        let exact = try DLCMModel.load(directory: dir, threads: 1, quantizedProducts: .exact)
        let int8 = try DLCMModel.load(directory: dir, threads: 1, quantizedProducts: .int8)
        let prompt = Self.prompts(vocab: exact.config.vocabSize)[5]
        let se = exact.newSequence(), si = int8.newSequence()
        var a = try exact.forward([BatchItem(sequence: se, tokens: prompt)])[0]
        var b = try int8.forward([BatchItem(sequence: si, tokens: prompt, boundaries: a.boundaries)])[0]
        var worst: Float = 0, scale: Float = 0
        for _ in 0..<12 {
            let next = argmax(a.logits.last!)
            a = try exact.forward([BatchItem(sequence: se, tokens: [next])])[0]
            b = try int8.forward([BatchItem(sequence: si, tokens: [next], boundaries: a.boundaries)])[0]
            worst = max(worst, maxAbsDiff(a.logits.last!, b.logits.last!))
            scale = max(scale, a.logits.last!.map(abs).max()!)
        }
        #expect(worst < 0.02 * scale, "\(type): int8 decode differs by \(worst), largest |logit| \(scale)")
        if QuantizedProducts.int8Available { #expect(worst > 0, "the int8 products were not used") }
    }

    @Test(arguments: types)
    func quantizedModelIsCloseToTheFloatOriginal(type: String) throws {
        // Not an exactness test: quantization error, bounded. Logits of the f32 model and of its
        // quantized copy on the same prompt, with the boundaries forced to agree (the router's
        // decisions may flip near the threshold). Measured: q8_0 1.1% of the largest logit, q4_0
        // 19%; the bounds leave about 2x.
        let original = try DLCMModel.load(directory: Fixtures.directory("tiny-quant"), threads: 1)
        let quantized = try DLCMModel.load(directory: Fixtures.directory("tiny-quant-\(type)"), threads: 1)
        let prompt = Self.prompts(vocab: original.config.vocabSize)[5]
        let a = try original.forward([BatchItem(sequence: original.newSequence(), tokens: prompt, allLogits: true)])[0]
        let b = try quantized.forward([BatchItem(sequence: quantized.newSequence(), tokens: prompt, allLogits: true,
                                                 boundaries: a.boundaries)])[0]
        let diff = zip(a.logits, b.logits).map { maxAbsDiff($0, $1) }.max()!
        let scale = a.logits.flatMap { $0 }.map(abs).max()!
        #expect(diff < (type == "q8_0" ? 0.03 : 0.4) * scale, "\(type): logits differ by \(diff), largest |logit| \(scale)")
    }

    // MARK: loading errors

    /// A copy of a fixture whose tensors and config.json the test may change.
    func scratchCopy(_ fixture: String, editConfig: ((inout [String: Any]) -> Void)? = nil,
                     editTensors: ((inout [(name: String, dtype: SafeTensorsDType, shape: [Int], bytes: [UInt8])]) -> Void)? = nil) throws -> URL {
        let src = Fixtures.directory(fixture)
        let dir = try scratchDirectory()
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: src.appendingPathComponent("config.json"))) as! [String: Any]
        editConfig?(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
        let file = try SafeTensorsFile(path: src.appendingPathComponent("model.safetensors").path)
        var tensors = try file.names.map { name in
            let info = try file.info(name)
            return (name: name, dtype: info.dtype, shape: info.shape, bytes: Array(try file.data(name)))
        }
        editTensors?(&tensors)
        var writer = SafeTensorsWriter()
        for t in tensors { try writer.add(t.name, dtype: t.dtype, shape: t.shape, bytes: t.bytes) }
        try writer.write(to: dir.appendingPathComponent("model.safetensors").path)
        return dir
    }

    func loadError(_ dir: URL) -> String {
        do { _ = try DLCMModel.load(directory: dir, threads: 1); return "" } catch { return "\(error)" }
    }

    @Test func aScaleOfTheWrongShapeIsNamed() throws {
        let dir = try scratchCopy("tiny-quant-q8_0", editTensors: { tensors in
            let i = tensors.firstIndex { $0.name == "cross.wk.weight.scale" }!
            tensors[i].shape = [32, 1]
            tensors[i].bytes = Array(tensors[i].bytes.prefix(64))
        })
        let message = loadError(dir)
        #expect(message == "tensor 'cross.wk.weight.scale' has shape [32, 1], the config needs [32, 2]", "\(message)")
    }

    @Test func quantizedTensorsThatDoNotMatchAreNamed() throws {
        // Scales that are not f16 (bf16: the same bytes, another meaning).
        let bf16Scales = loadError(try scratchCopy("tiny-quant-q4_0", editTensors: { tensors in
            let i = tensors.firstIndex { $0.name == "lm_head.weight.scale" }!
            tensors[i].dtype = .bf16
        }))
        #expect(bf16Scales.contains("tensor 'lm_head.weight.scale' is bf16, config.json says dtype q4_0 (it needs F16)"), "\(bf16Scales)")
        // A missing scale.
        let missing = loadError(try scratchCopy("tiny-quant-q8_0", editTensors: { $0.removeAll { $0.name == "pool.up.weight.scale" } }))
        #expect(missing == "missing tensor 'pool.up.weight.scale'", "\(missing)")
        // q8_0 codes under a q4_0 config: twice the bytes a row.
        let codes = loadError(try scratchCopy("tiny-quant-q8_0") { $0["dtype"] = "q4_0" })
        #expect(codes.contains("tensor 'embed.weight.q' has shape [97, 32], the config needs [97, 16]"), "\(codes)")
        // A float checkpoint whose config says q8_0: its matrices are not there as codes.
        let float = loadError(try scratchCopy("tiny-quant") { $0["dtype"] = "q8_0"; $0["quant_block"] = 32 })
        #expect(float == "missing tensor 'embed.weight.q'", "\(float)")
        // A quantized checkpoint whose config says float32: its codes are unexpected.
        let unquantized = loadError(try scratchCopy("tiny-quant-q8_0") { $0["dtype"] = "float32" })
        #expect(unquantized == "missing tensor 'embed.weight'", "\(unquantized)")
    }

    @Test func quantizedConfigsNameTheField() throws {
        let noBlock = loadError(try scratchCopy("tiny-quant-q8_0") { $0.removeValue(forKey: "quant_block") })
        #expect(noBlock == "config field 'quant_block' must be 32 for dtype q8_0", "\(noBlock)")
        let block16 = loadError(try scratchCopy("tiny-quant-q4_0") { $0["quant_block"] = 16 })
        #expect(block16.contains("'quant_block'"), "\(block16)")
        // tiny-replicated's d_concept 48 cannot be cut into blocks of 32.
        let width = loadError(try scratchCopy("tiny-replicated") { $0["dtype"] = "q8_0"; $0["quant_block"] = 32 })
        #expect(width == "config field 'd_concept' must be a multiple of quant_block 32 for dtype q8_0, got 48", "\(width)")
        let dtype = loadError(try scratchCopy("tiny-quant") { $0["dtype"] = "q5_0" })
        #expect(dtype.contains("config field 'dtype' must be float32, bfloat16, float16, q8_0 or q4_0"), "\(dtype)")
    }
}
