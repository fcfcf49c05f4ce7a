import ArgumentParser
import DLCMEngine
import DLCMRuntime
import Foundation

/// Perplexity of text files, with the router's boundaries or forced ones (what llama-perplexity
/// is for llama.cpp, plus the ablations that show whether the concepts matter).
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score text files: nats/token, bits/byte and tokens/concept, with learned or forced boundaries.",
        discussion: """
            Each file is one document: BOS, then its tokens, cut into windows of the model's context \
            overlapping by one token when longer. --boundaries changes only where concepts start: \
            stride:K starts one at every K-th token (a fractional K: where floor(i / K) steps up, \
            exactly 1/K of the tokens), random:RATE at each token with probability RATE \
            (seeded), none makes the first token a concept of its own and fires no other boundary.
            """)

    @OptionGroup var options: ModelOptions
    @Option(name: .long, help: "learned, stride:K, random:RATE or none.") var boundaries = "learned"
    @Option(name: .long, help: "Seed of the random:RATE draws.") var seed: UInt64 = 0
    @Flag(name: .long, help: "Feed each window one token per pass, as decode does (slower; the way --kv-cache is exercised on the model's own positions).") var incremental = false
    @Flag(name: .long, help: "Print one JSON object.") var json = false
    @Argument(help: "Text files (UTF-8).") var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one file") }
        do { _ = try BoundaryRule(parsing: boundaries) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        let rule = try BoundaryRule(parsing: boundaries)
        let bundle = try ModelBundle(directory: URL(fileURLWithPath: options.model), threads: options.threads ?? ProcessInfo.processInfo.activeProcessorCount,
                                    quantizedProducts: try options.products(), kvCache: try options.cacheElement())
        var rng = SplitMix64(seed: seed)
        var rows = [(file: String, bytes: Int, score: PerplexityScore)]()
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            guard let text = String(data: data, encoding: .utf8) else { throw ValidationError("\(file) is not UTF-8 text") }
            let ids = bundle.document(text: text)
            rows.append((file, data.count, try bundle.model.score(document: ids, rule: rule, rng: &rng, incremental: incremental)))
        }
        let total = rows.reduce(PerplexityScore()) { $0 + $1.score }
        let bytes = rows.reduce(0) { $0 + $1.bytes }
        if json {
            func fields(_ s: PerplexityScore, bytes: Int) -> [String: Any] {
                ["tokens": s.tokens, "nats_per_token": s.natsPerToken, "bits_per_byte": bitsPerByte(s, bytes),
                 "tokens_per_concept": s.tokensPerConcept, "concepts": s.concepts, "bytes": bytes]
            }
            var object = fields(total, bytes: bytes)
            object["boundaries"] = rule.description
            object["seed"] = seed
            object["model"] = bundle.name
            object["files"] = rows.map { row in fields(row.score, bytes: row.bytes).merging(["file": row.file]) { a, _ in a } }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("model \(bundle.name), boundaries \(rule)")
        let width = max(4, rows.map { $0.file.count }.max() ?? 0)
        func line(_ name: String, _ s: PerplexityScore, _ bytes: Int) {
            print(name.padding(toLength: width, withPad: " ", startingAt: 0)
                  + String(format: " %9d %11.4f %10.4f %15.2f", s.tokens, s.natsPerToken, bitsPerByte(s, bytes), s.tokensPerConcept))
        }
        print("file".padding(toLength: width, withPad: " ", startingAt: 0) + "    tokens  nats/token  bits/byte  tokens/concept")
        for row in rows { line(row.file, row.score, row.bytes) }
        if rows.count > 1 { line("all", total, bytes) }
    }

    private func bitsPerByte(_ s: PerplexityScore, _ bytes: Int) -> Double { s.nats / log(2) / Double(max(bytes, 1)) }
}
