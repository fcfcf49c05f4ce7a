import ArgumentParser
import DLCMRuntime
import Foundation
import Kernels

/// Writes a q8_0 / q4_0 copy of a float checkpoint (weights/FORMAT.md, "Quantized checkpoints").
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Write a q8_0 or q4_0 copy of a float checkpoint (the bytes weights/recipe/quantize.py writes).",
        discussion: """
            Every weight matrix is stored as int8 (q8) or 4-bit (q4) codes with one f16 scale per \
            block of 32 inputs; norms and the null concept stay f32. config.json gets dtype q8_0 or \
            q4_0 and quant_block 32; tokenizer.json, tokenizer_config.json and chat_template.jinja are copied. Matrix widths must be multiples of 32.
            """)

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case q8, q4
        var weightType: WeightType { self == .q8 ? .q8_0 : .q4_0 }
    }

    @Argument(help: "Float checkpoint directory (config.json, model.safetensors, tokenizer.json).") var input: String
    @Argument(help: "Directory to write (created if needed).") var output: String
    @Option(name: .long, help: "q8 or q4.") var type: Kind

    func run() throws {
        // Errors (a width that is not a multiple of 32, a broken input) name the tensor or file.
        let summary = try CheckpointQuantizer.quantize(from: URL(fileURLWithPath: input), to: URL(fileURLWithPath: output),
                                                       as: type.weightType)
        func mib(_ bytes: Int) -> String { String(format: "%.2f MiB", Double(bytes) / 1048576) }
        print("\(input) -> \(output) (\(type.weightType)): \(summary.matrices) matrices quantized, \(summary.vectors) vectors kept in f32")
        print(String(format: "model.safetensors: %@ -> %@ (%.2fx smaller)", mib(summary.inputBytes), mib(summary.outputBytes),
                     Double(summary.inputBytes) / Double(max(summary.outputBytes, 1))))
        if !summary.copiedTokenizer { print("note: \(input) has no tokenizer.json; none copied (dlcm serve needs one)") }
    }
}
