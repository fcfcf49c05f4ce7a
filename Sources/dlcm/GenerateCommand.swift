import ArgumentParser
import DLCMEngine
import DLCMRuntime
import Foundation
import MonotonicTime

/// Streams a completion to stdout, then prints speed and concept figures to stderr.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Complete a prompt, streaming text to stdout.")

    @OptionGroup var options: ModelOptions
    @Option(name: .shortAndLong, help: "The prompt.") var prompt = "The "
    @Option(name: .long, help: "Tokens to generate.") var maxTokens = 200
    @Option(name: .long, help: "0 = greedy.") var temperature: Float = 0.8
    @Option(name: .long) var topP: Float = 0.95
    @Option(name: .long) var topK = 0
    @Option(name: .long) var repetitionPenalty: Float = 1.1
    @Option(name: .long) var seed: UInt64?
    @Option(name: .long, help: "Stop string (repeatable).") var stop: [String] = []

    func run() throws {
        let bundle = try ModelBundle(directory: URL(fileURLWithPath: options.model), threads: options.threads ?? ProcessInfo.processInfo.activeProcessorCount,
                                    quantizedProducts: try options.products(), kvCache: try options.cacheElement())
        let model = bundle.model
        var params = GenerationParameters()
        params.maxTokens = maxTokens
        params.sampling.temperature = temperature
        params.sampling.topP = topP
        params.sampling.topK = topK
        params.sampling.repetitionPenalty = repetitionPenalty
        params.sampling.seed = seed
        params.stop = stop
        try params.sampling.validate(vocabSize: model.config.vocabSize)
        let ids = bundle.document(text: prompt)
        let seq = model.newSequence()
        var gen = Generation(tokenizer: bundle.tokenizer, prompt: ids, parameters: params, eotTokenID: model.config.eotTokenID)
        FileHandle.standardOutput.write(Data(prompt.utf8))
        let t0 = monotonicNanoseconds()
        var logits = try model.forward([BatchItem(sequence: seq, tokens: ids)])[0].logits[0]
        let t1 = monotonicNanoseconds()
        var boundaries = 0, steps = 0
        while true {
            let out = gen.next(logits: logits, contextLeft: model.config.maxSeqLen - seq.length)
            if !out.text.isEmpty { FileHandle.standardOutput.write(Data(out.text.utf8)) }
            if out.finish != nil { break }
            let step = try model.forward([BatchItem(sequence: seq, tokens: [out.token])])[0]
            logits = step.logits[0]
            boundaries += step.boundaries[0] ? 1 : 0
            steps += 1
        }
        let t2 = monotonicNanoseconds()
        let prefillS = Double(t1 - t0) / 1e9, decodeS = Double(t2 - t1) / 1e9
        FileHandle.standardError.write(Data(String(format: "\n\n[prompt %d tokens in %.3f s (%.0f tok/s); generated %d tokens in %.3f s (%.1f tok/s); %.2f tokens per concept over the sequence (%d concepts for %d tokens); finish: %@]\n",
            ids.count, prefillS, Double(ids.count) / prefillS, gen.generated.count, decodeS, Double(max(steps, 1)) / decodeS,
            Double(seq.length) / Double(seq.conceptCount + 1), seq.conceptCount + 1, seq.length, gen.finish?.rawValue ?? "?").utf8))
    }
}
