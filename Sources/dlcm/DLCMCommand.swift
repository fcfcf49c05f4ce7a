import ArgumentParser
import Kernels

@main
struct DLCMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlcm",
        abstract: "Run a Dynamic Large Concept Model on the CPU.",
        subcommands: [GenerateCommand.self, SegmentCommand.self, EvalCommand.self, BenchCommand.self, ServeCommand.self, LoadCommand.self,
                      QuantizeCommand.self],
        defaultSubcommand: GenerateCommand.self)
}

struct ModelOptions: ParsableArguments {
    /// The shipped checkpoint, relative to the repository root.
    static let shippedModel = "weights/dlcm-10m-debian"

    @Option(name: .long, help: "Checkpoint directory (config.json, model.safetensors, tokenizer.json).")
    var model = ModelOptions.shippedModel

    @Option(name: .long, help: "Compute threads (default: all cores).")
    var threads: Int?

    @Option(name: .long, help: "How products with q8_0 / q4_0 weights are computed: int8 (X rounded to int8 per block of 32, AVX512-VNNI dot products; the default where the CPU has them) or exact (the dequantized weights times f32 X). serve: env DLCM_QUANTIZED_PRODUCTS.")
    var quantizedProducts: String?

    @Option(name: .long, help: "Element type of the KV caches: f32 (default), bf16 or f16 (half the memory per cached position; keys and values rounded once when written). serve: env DLCM_KV_CACHE.")
    var kvCache: String?

    /// `--quantized-products` (or, for serve, its variable), checked.
    func products(_ settings: Settings = Settings(environment: [:])) throws -> QuantizedProducts {
        try settings.choice(quantizedProducts, "QUANTIZED_PRODUCTS", QuantizedProducts.preferred, QuantizedProducts.allCases)
    }

    /// `--kv-cache` (or, for serve, its variable), checked.
    func cacheElement(_ settings: Settings = Settings(environment: [:])) throws -> CacheElement {
        try settings.choice(kvCache, "KV_CACHE", CacheElement.standard, CacheElement.allCases)
    }
}
