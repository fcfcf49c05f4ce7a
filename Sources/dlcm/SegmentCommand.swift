import ArgumentParser
import DLCMEngine
import DLCMRuntime
import Foundation

/// Shows how the model cuts a text into concepts.
struct SegmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "segment", abstract: "Show the concepts the model's router draws in a text.")

    @OptionGroup var options: ModelOptions
    @Argument(help: "The text (default: read standard input).") var text: String?
    @Flag(name: .long, help: "Print each token with its boundary probability.") var probabilities = false

    func run() throws {
        let input = text ?? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        let bundle = try ModelBundle(directory: URL(fileURLWithPath: options.model), threads: options.threads ?? ProcessInfo.processInfo.activeProcessorCount,
                                    quantizedProducts: try options.products(), kvCache: try options.cacheElement())
        let ids = bundle.document(text: input)
        guard ids.count <= bundle.model.config.maxSeqLen else {
            throw ValidationError("the text is \(ids.count) tokens; this model takes at most \(bundle.model.config.maxSeqLen)")
        }
        let out = try bundle.model.forward([BatchItem(sequence: bundle.model.newSequence(), tokens: ids)])[0]
        var pieces = [String](), current = [Int32]()
        for (i, id) in ids.enumerated().dropFirst() {
            if out.boundaries[i] && !current.isEmpty { pieces.append(bundle.tokenizer.decode(current)); current = [] }
            current.append(id)
            if probabilities {
                print(String(format: "%5d  p=%.3f %@ %@", i, out.boundaryProbs[i], out.boundaries[i] ? "|" : " ", bundle.tokenizer.decode([id]).debugDescription))
            }
        }
        if !current.isEmpty { pieces.append(bundle.tokenizer.decode(current)) }
        print(pieces.map { "[\($0)]" }.joined())
        print(String(format: "\n%d tokens, %d concepts, %.2f tokens per concept", ids.count - 1, pieces.count, Double(ids.count - 1) / Double(max(pieces.count, 1))))
    }
}
