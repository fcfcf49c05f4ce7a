import ArgumentParser

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
    static let shippedModel = "weights/dlcm-4m-debian"

    @Option(name: .long, help: "Checkpoint directory (config.json, model.safetensors, tokenizer.json).")
    var model = ModelOptions.shippedModel

    @Option(name: .long, help: "Compute threads (default: all cores).")
    var threads: Int?
}
