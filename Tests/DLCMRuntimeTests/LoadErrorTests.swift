import Foundation
import Testing
@testable import DLCMRuntime

/// Broken checkpoints are errors that name what is wrong, never crashes.
@Suite struct LoadErrorTests {
    /// A copy of the tiny fixture whose config.json and tensors the test may change.
    func scratchCopy(editConfig: ((inout [String: Any]) -> Void)? = nil) throws -> URL {
        let src = Fixtures.directory("tiny-unique")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dlcm-load-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: src.appendingPathComponent("model.safetensors"), to: dir.appendingPathComponent("model.safetensors"))
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: src.appendingPathComponent("config.json"))) as! [String: Any]
        editConfig?(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
        return dir
    }

    func loadError(_ dir: URL) -> String {
        do { _ = try DLCMModel.load(directory: dir, threads: 1); return "" } catch { return "\(error)" }
    }

    @Test func configErrorsNameTheField() throws {
        #expect(loadError(try scratchCopy { $0["d_token"] = 33 }).contains("d_token"))
        #expect(loadError(try scratchCopy { $0.removeValue(forKey: "vocab_size") }).contains("vocab_size"))
        #expect(loadError(try scratchCopy { $0["concept_attention"] = "sideways" }).contains("concept_attention"))
        #expect(loadError(try scratchCopy { $0["max_seq_len"] = "long" }).contains("max_seq_len"))
        #expect(loadError(try scratchCopy { $0["encoder"] = ["n_layers": 2, "n_heads": 3, "n_kv_heads": 1, "ffn_dim": 64] }).contains("encoder.n_heads"))
        #expect(loadError(try scratchCopy { c in
            var dec = c["decoder"] as! [String: Any]; dec["window"] = -1; c["decoder"] = dec
        }).contains("decoder.window"))
        #expect(loadError(try scratchCopy { c in
            var bb = c["backbone"] as! [String: Any]; bb["window"] = 4; c["backbone"] = bb
        }).contains("backbone.window"))
        // A window on a token stack is a model like any other.
        #expect(loadError(try scratchCopy { c in
            var enc = c["encoder"] as! [String: Any]; enc["window"] = 3; c["encoder"] = enc
        }) == "")
    }

    @Test func windowFieldRoundTripsAndIsAbsentForFullAttention() throws {
        let full = StackConfig(nLayers: 1, nHeads: 2, nKVHeads: 1, ffnDim: 8)
        let windowed = StackConfig(nLayers: 1, nHeads: 2, nKVHeads: 1, ffnDim: 8, window: 4)
        #expect(!String(decoding: try JSONEncoder().encode(full), as: UTF8.self).contains("window"))
        #expect(try JSONDecoder().decode(StackConfig.self, from: JSONEncoder().encode(windowed)) == windowed)
        #expect(windowed.firstAttended(by: 2) == 0)
        #expect(windowed.firstAttended(by: 10) == 7)
        #expect(full.firstAttended(by: 10) == 0)
    }

    @Test func weightsThatDoNotMatchTheConfigNameTheTensor() throws {
        // More decoder layers than the file has: the first missing tensor is named.
        let more = loadError(try scratchCopy { c in
            var dec = c["decoder"] as! [String: Any]; dec["n_layers"] = 3; c["decoder"] = dec
        })
        #expect(more.contains("missing tensor 'decoder.layers.2."))
        // Fewer: the extra tensors are unexpected.
        let fewer = loadError(try scratchCopy { c in
            var enc = c["encoder"] as! [String: Any]; enc["n_layers"] = 1; c["encoder"] = enc
        })
        #expect(fewer.contains("unexpected tensor 'encoder.layers.1."))
        // A different width: shapes disagree, and the message names the tensor and both shapes.
        let shape = loadError(try scratchCopy { $0["cross_ffn_dim"] = 32 })
        #expect(shape.contains("cross.ffn.w1.weight") && shape.contains("[64, 32]") && shape.contains("[32, 32]"))
        // The dtype the config promises must be the file's.
        #expect(loadError(try scratchCopy { $0["dtype"] = "bfloat16" }).contains("config.json says dtype bfloat16"))
    }

    @Test func truncatedWeightFileIsAnError() throws {
        let dir = try scratchCopy()
        let file = dir.appendingPathComponent("model.safetensors")
        let data = try Data(contentsOf: file)
        try data.prefix(data.count / 2).write(to: file)
        #expect(loadError(dir).hasPrefix("model.safetensors:"))
        try Data().write(to: file)
        #expect(loadError(dir).hasPrefix("model.safetensors:"))
    }
}
