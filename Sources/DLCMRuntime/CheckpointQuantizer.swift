import Foundation
import Kernels
import SafeTensors

/// Writes a q8_0 or q4_0 copy of a float checkpoint (weights/FORMAT.md, "Quantized
/// checkpoints"): the same bytes weights/recipe/quantize.py writes for the same input.
public enum CheckpointQuantizer {
    /// What a conversion wrote.
    public struct Summary: Sendable {
        /// Bytes of the input and output model.safetensors.
        public let inputBytes: Int
        public let outputBytes: Int
        /// Matrices quantized; 1-D tensors copied as f32.
        public let matrices: Int
        public let vectors: Int
        /// Whether the input had a tokenizer.json (copied).
        public let copiedTokenizer: Bool
    }

    /// The text files of a checkpoint besides config.json and its weights, copied as they are
    /// where the input has them: the tokenizer, and the chat template (in either place Hugging
    /// Face checkpoints keep it), so that a quantized copy serves chat as the original does.
    public static let companionFiles = ["tokenizer.json", "tokenizer_config.json", "chat_template.jinja"]

    /// Why a checkpoint cannot be quantized (names the tensor or file concerned).
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Quantizes the checkpoint directory `input` (f32, bf16 or f16) into `output` (created if
    /// needed; its config.json, model.safetensors and `companionFiles` are replaced).
    ///
    /// Every 2-D tensor becomes `NAME.q` and `NAME.scale`; 1-D tensors are stored as f32. Tensors
    /// are written in the order safetensors' own writer uses (F32, then F16, then the I8 / U8
    /// codes, each by name), so the file is byte for byte the recipe's.
    public static func quantize(from input: URL, to output: URL, as type: WeightType) throws -> Summary {
        precondition(type.isQuantized, "quantize to q8_0 or q4_0, not \(type)")
        guard input.standardizedFileURL.path != output.standardizedFileURL.path else {
            throw Failure(description: "the output directory must differ from the input")
        }
        let configURL = input.appendingPathComponent("config.json")
        let config = try DLCMConfig.load(from: configURL)
        guard !config.isQuantized else {
            throw Failure(description: "\(input.path) is already quantized (dtype \(config.dtype))")
        }
        let modelPath = input.appendingPathComponent("model.safetensors").path
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(path: modelPath) } catch {
            throw Failure(description: "model.safetensors: \(error)")
        }
        // Every tensor present, no other, shapes and dtype as the config says (the loader's checks).
        _ = try DLCMWeights(config: config, source: SafeTensorsSource(file))

        let names = file.names.sorted()
        let bad = try names.filter { name in
            let shape = try file.info(name).shape
            return shape.count == 2 && shape[1] % quantBlock != 0
        }
        if let first = bad.first {
            let shape = try file.info(first).shape
            throw Failure(description: "tensor '\(first)' is \(shape): its width \(shape[1]) is not a multiple of "
                          + "\(quantBlock), the \(type) block; cannot quantize"
                          + (bad.count > 1 ? " (nor \(bad.count - 1) more)" : ""))
        }

        var vectors: [(String, [Int], [Float])] = []
        var scales: [(String, [Int], [UInt8])] = []
        var codes: [(String, [Int], [UInt8])] = []
        for name in names {
            let shape = try file.info(name).shape
            let values = try file.floats(name)
            guard shape.count == 2 else {
                vectors.append((name, shape, values))
                continue
            }
            let (rows, cols) = (shape[0], shape[1])
            var q = [UInt8](repeating: 0, count: rows * type.rowBytes(cols))
            var d = [UInt8](repeating: 0, count: rows * (cols / quantBlock) * 2)
            let ok = values.withUnsafeBufferPointer { v in
                q.withUnsafeMutableBytes { qb in
                    d.withUnsafeMutableBytes { db in
                        Kernels.quantize(v.baseAddress!, count: v.count, as: type, codes: qb.baseAddress!, scales: db.baseAddress!)
                    }
                }
            }
            guard ok else {
                throw Failure(description: "tensor '\(name)' has a value that is not finite or too large for an f16 block scale")
            }
            codes.append((name + ".q", [rows, type.rowBytes(cols)], q))
            scales.append((name + ".scale", [rows, cols / quantBlock], d))
        }
        var writer = SafeTensorsWriter()
        writer.metadata = ["format": "dlcm"]
        for (name, shape, values) in vectors { try writer.add(name, shape: shape, floats: values, as: .f32) }
        for (name, shape, bytes) in scales { try writer.add(name, dtype: .f16, shape: shape, bytes: bytes) }
        for (name, shape, bytes) in codes { try writer.add(name, dtype: type == .q8_0 ? .i8 : .u8, shape: shape, bytes: bytes) }

        let fm = FileManager.default
        try fm.createDirectory(at: output, withIntermediateDirectories: true)
        try quantizedConfig(Data(contentsOf: configURL), type: type).write(to: output.appendingPathComponent("config.json"))
        let outPath = output.appendingPathComponent("model.safetensors").path
        try writer.write(to: outPath)
        for name in Self.companionFiles {
            let source = input.appendingPathComponent(name), destination = output.appendingPathComponent(name)
            guard fm.fileExists(atPath: source.path) else { continue }
            if fm.fileExists(atPath: destination.path) { try fm.removeItem(at: destination) }
            try fm.copyItem(at: source, to: destination)
        }
        let copied = fm.fileExists(atPath: input.appendingPathComponent("tokenizer.json").path)
        func size(_ path: String) -> Int { ((try? fm.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0 }
        return Summary(inputBytes: size(modelPath), outputBytes: size(outPath), matrices: codes.count,
                       vectors: vectors.count, copiedTokenizer: copied)
    }

    /// config.json with `dtype` set to `type` and `"quant_block": 32` added after it, every other
    /// byte as it was: for a config the recipe wrote (json.dump, indent 2, dtype last) that is
    /// the text quantize.py writes. A config whose text does not allow the edit (no single
    /// `"dtype": "..."`) is written anew, same fields, keys sorted.
    static func quantizedConfig(_ original: Data, type: WeightType) throws -> Data {
        guard var json = try JSONSerialization.jsonObject(with: original) as? [String: Any] else {
            throw Failure(description: "config.json is not a JSON object")
        }
        json["dtype"] = type.description
        json["quant_block"] = quantBlock
        let text = String(decoding: original, as: UTF8.self)
        let matches = text.matches(of: /(?<indent>[ \t]*)"dtype"(?<colon>\s*:\s*)"[^"\\]*"/)
        if matches.count == 1, let m = matches.first {
            let edited = text.replacingCharacters(
                in: m.range, with: "\(m.indent)\"dtype\"\(m.colon)\"\(type)\",\n\(m.indent)\"quant_block\"\(m.colon)\(quantBlock)")
            let data = Data(edited.utf8)
            if let check = try? JSONSerialization.jsonObject(with: data) as? NSDictionary, check == json as NSDictionary {
                return data
            }
        }
        var data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        data.append(0x0A)
        return data
    }
}
