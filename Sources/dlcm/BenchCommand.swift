import ArgumentParser
import DLCMEngine
import DLCMRuntime
import Foundation
import Kernels
import MonotonicTime

/// Prefill and decode speed, the concept backbone's share, and the fraction of the machine's
/// roofline reached. Figures, not pass/fail.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Measure prefill and decode speed.")

    @OptionGroup var options: ModelOptions
    @Option(name: .long, help: "Prompt tokens for the prefill measurement.") var promptTokens = 256
    @Option(name: .long, help: "Decode steps per measurement.") var steps = 128
    @Option(name: .long, parsing: .upToNextOption, help: "Batch sizes for decode.") var batch: [Int] = [1, 8, 16]
    @Option(name: .long, help: "Peak f32 GFLOP/s of one thread (default: measured, as kernel-bench does: 118 on a CPU with one 512-bit FMA a cycle, 243 with two).") var peakGflopsPerThread: Double?
    @Option(name: .long, help: "Peak memory bandwidth GB/s of this machine.") var peakGBs: Double = 40
    @Option(name: .long, parsing: .upToNextOption, help: "Instead of the model figures: stream --steps tokens each through the serving engine at these concurrency levels (the in-process baseline of bench/serve_bench.sh).") var engineStreams: [Int] = []
    @Option(name: .long, help: "Requests per --engine-streams level, shared among its streams (each runs its share one after the other).") var requests = 64
    @Option(name: .long, help: "Prompt for --engine-streams.") var prompt = "The quick brown fox jumps over the lazy dog. "
    @Flag(name: .long, help: "Also time decode with weights packed per call instead of once at load, interleaved with the packed runs, and print the ratio.") var comparePrepack = false
    @Option(name: .long, help: "Context each sequence holds when decode timing starts: it first reads this many tokens of the bench text (llama-bench -d).") var depth = 32
    @Option(name: .long, help: "What each decode step feeds: greedy (the model's argmax) or text (the bench text's next token, so the router of a random-weight model sees text, as in prefill).") var decodeInput: DecodeInput = .greedy

    enum DecodeInput: String, ExpressibleByArgument, CaseIterable { case greedy, text }

    func run() throws {
        HeapTuning.keepFreedHeap(bytes: HeapTuning.serverBytes)   // as `serve` does
        let threads = options.threads ?? ProcessInfo.processInfo.activeProcessorCount
        let loadStart = monotonicNanoseconds()
        let bundle = try ModelBundle(directory: URL(fileURLWithPath: options.model), threads: threads,
                                     quantizedProducts: try options.products(), kvCache: try options.cacheElement())
        let loadSeconds = Double(monotonicNanoseconds() - loadStart) / 1e9
        let model = bundle.model, c = model.config
        if !engineStreams.isEmpty {
            let engine = Engine(bundle: bundle, configuration: EngineConfiguration(maxRunning: 16, maxWaiting: 64))
            try engine.start()
            defer { engine.stop() }
            // The compute threads placed as `serve` places them, so both sides of serve_bench compare alike.
            let placement = ThreadPlacement.apply(engine: engine, loop: nil, threads: threads)
            _ = ThreadPriority.apply(engine: engine, loop: nil, computeNice: ThreadPriority.defaultComputeNice)
            print("engine threads \(threads), cpus \(placement)")
            let ids = bundle.document(text: prompt)
            // Warm-up at the largest level and full length: scratch buffers and caches allocated
            // and faulted in, as in a server that has been running (cold, a 16-stream round of
            // 128 tokens measured up to 30% slower).
            let widest = engineStreams.max()!
            _ = try runEngineStreams(engine, prompt: ids, streams: widest, requests: 1, maxTokens: steps)
            for n in engineStreams {
                let steps0 = engine.metrics.snapshot.steps
                let r = try runEngineStreams(engine, prompt: ids, streams: n, requests: max(1, (requests + n - 1) / n), maxTokens: steps)
                // Steps per stream's worth of tokens: 1.0 when every slot of every step made a token.
                let fill = Double(r.tokens) / Double(n) / Double(engine.metrics.snapshot.steps - steps0)
                print(String(format: "engine streams %3d: %8.1f tok/s aggregate, median TTFT %7.1f ms  (%d tokens in %.2f s, %.3f of the batch's slots)",
                             n, r.tokensPerSecond, 1000 * r.medianTTFT, r.tokens, r.seconds, fill))
            }
            return
        }
        let peakGflops = (peakGflopsPerThread ?? FMAPeak.measureGFLOPs()) * Double(threads)
        guard depth >= 1, depth + 9 <= c.maxSeqLen else {
            throw ValidationError("--depth must be in 1...\(c.maxSeqLen - 9) (max_seq_len \(c.maxSeqLen))")
        }
        let unit = "The quick brown fox jumps over the lazy dog. A dictionary defines words; code defines programs. "
        // Long enough for the prompt and for every sequence's depth + steps (sequence i starts at token 7i).
        let needed = max(promptTokens, depth + 7 * ((batch.max() ?? 1) - 1) + steps) + 1
        let repeats = max(64, needed / max(bundle.tokenizer.encode(unit, parseSpecial: false).count, 1) + 2)
        let corpus = bundle.document(text: String(repeating: unit, count: repeats))
        let prompt = Array(corpus.prefix(min(promptTokens, c.maxSeqLen / 2)))
        print("model \(bundle.name): d_token \(c.dToken), d_concept \(c.dConcept), layers \(c.encoder.nLayers)+\(c.backbone.nLayers)+\(c.decoder.nLayers), vocab \(c.vocabSize), \(c.dtype), threads \(threads), loaded in \(String(format: "%.2f", loadSeconds)) s")

        // Prefill: best of 3.
        var best = Double.infinity
        var tpc = 4.0
        for _ in 0..<3 {
            let seq = model.newSequence()
            let t0 = monotonicNanoseconds()
            _ = try model.forward([BatchItem(sequence: seq, tokens: prompt)])
            best = min(best, Double(monotonicNanoseconds() - t0) / 1e9)
            tpc = Double(seq.length) / Double(seq.conceptCount + 1)
        }
        let flops = c.flopsPerToken(tokensPerConcept: tpc)
        let prefillRate = Double(prompt.count) / best
        // Executed FLOPs: a prefill computes logits for its last token only.
        let prefillFlops = flops.total - flops.lmHead * (1 - 1 / Double(prompt.count))
        print(String(format: "prefill  %4d tokens: %8.0f tok/s  %6.1f GFLOP/s executed at %.2f MFLOP/token (%.0f%% of %.0f peak)  [%.2f tokens/concept]",
                     prompt.count, prefillRate, prefillRate * prefillFlops / 1e9, prefillFlops / 1e6, 100 * prefillRate * prefillFlops / 1e9 / peakGflops, peakGflops, tpc))

        // Decode at each batch size: steps after a distinct --depth-token prompt per sequence.
        print("decode after a \(depth)-token prompt per sequence, feeding \(decodeInput.rawValue) tokens")
        for b in batch {
            let seqs = (0..<b).map { _ in model.newSequence() }
            let prompts = (0..<b).map { i in Array(corpus[(i * 7)..<(i * 7 + depth)]) }
            var outs = try model.forward(zip(seqs, prompts).map { BatchItem(sequence: $0, tokens: $1) })
            let n = min(steps, c.maxSeqLen - depth - 8)
            model.profile = ForwardProfile()
            let t0 = monotonicNanoseconds()
            for k in 0..<n {
                outs = try model.forward(seqs.indices.map { i in
                    BatchItem(sequence: seqs[i], tokens: [decodeInput == .text ? corpus[i * 7 + depth + k] : argmax(outs[i].logits[0])])
                })
            }
            let s = Double(monotonicNanoseconds() - t0) / 1e9
            let rate = Double(n * b) / s
            let p = model.profile
            let decodeTPC = Double(p.tokens) / Double(max(p.concepts, 1))
            let f = c.flopsPerToken(tokensPerConcept: decodeTPC)
            let bytesPerStep = c.weightBytesPerToken(tokensPerConcept: decodeTPC, bytesPerWeight: c.bytesPerWeight)
            let stages = ForwardProfile.Stage.allCases.map { String(format: "%@ %.0f%%", $0.name, 100 * p.seconds($0) / p.totalSeconds) }.joined(separator: ", ")
            print(String(format: "decode batch %2d: %8.1f tok/s  %.2f ms/step  weights %.1f GB/s (%.0f%% of %.0f DRAM; small models run from cache)  backbone: %.0f%% of time, %.0f%% of FLOPs  [%.2f tokens/concept]",
                         b, rate, 1000 * s / Double(n), bytesPerStep * Double(n) / s / 1e9, 100 * bytesPerStep * Double(n) / s / 1e9 / peakGBs, peakGBs,
                         100 * p.seconds(.backbone) / p.totalSeconds, 100 * f.backboneShare, decodeTPC))
            print("    time by stage: \(stages)")
            print(String(format: "    caches: %.2f MiB per sequence at %d tokens (KV cache %@)",
                         Double(seqs[0].memoryBytes) / 1048576, seqs[0].length, model.kvCache.rawValue))
        }
        if comparePrepack {
            // Interleaved A/B rounds so both see the same machine (noisy when shared): best of 3 each.
            let unpacked = try ModelBundle(directory: URL(fileURLWithPath: options.model), threads: threads, prepack: false,
                                           quantizedProducts: try options.products(), kvCache: try options.cacheElement()).model
            print(String(format: "packed weights: %.1f MB held beside the mapped file", Double(model.packedWeights?.bytes ?? 0) / 1e6))
            for b in batch {
                var best = (packed: 0.0, perCall: 0.0)
                for _ in 0..<3 {
                    best.packed = max(best.packed, try decodeRate(model, corpus: corpus, batch: b, steps: min(steps, 64)))
                    best.perCall = max(best.perCall, try decodeRate(unpacked, corpus: corpus, batch: b, steps: min(steps, 64)))
                }
                print(String(format: "decode batch %2d: packed at load %8.1f tok/s, packed per call %8.1f tok/s: %.2fx",
                             b, best.packed, best.perCall, best.packed / best.perCall))
            }
        }
        // Sampling cost per token over this vocabulary (it runs on the engine thread between steps).
        let sampleLogits = try model.forward([BatchItem(sequence: model.newSequence(), tokens: Array(corpus.prefix(16)))])[0].logits[0]
        for (label, topP, topK) in [("temperature 0.8", Float(1), 0), ("+ top_p 0.95", 0.95, 0), ("+ top_k 40", 1, 40)] {
            var sp = SamplingParameters(); sp.temperature = 0.8; sp.topP = topP; sp.topK = topK; sp.seed = 1
            var sampler = Sampler(sp)
            let t0 = monotonicNanoseconds()
            for _ in 0..<500 { _ = sampler.sample(sampleLogits) }
            print(String(format: "sampling %@: %.1f us per token", label, Double(monotonicNanoseconds() - t0) / 500 / 1000))
        }
        print(String(format: "FLOPs per token (matmuls, at %.2f tokens/concept): %.2f M, backbone share %.0f%%", tpc, flops.total / 1e6, 100 * flops.backboneShare))
    }
}

/// Greedy decode tokens per second for `batch` sequences after a short distinct prompt each.
private func decodeRate(_ model: DLCMModel, corpus: [Int32], batch b: Int, steps n: Int) throws -> Double {
    let seqs = (0..<b).map { _ in model.newSequence() }
    let prompts = (0..<b).map { i in Array(corpus[(i * 7)..<(i * 7 + 32)]) }
    var outs = try model.forward(zip(seqs, prompts).map { BatchItem(sequence: $0, tokens: $1) })
    let t0 = monotonicNanoseconds()
    for _ in 0..<n {
        outs = try model.forward(zip(seqs, outs).map { BatchItem(sequence: $0, tokens: [argmax($1.logits[0])]) })
    }
    return Double(n * b) / (Double(monotonicNanoseconds() - t0) / 1e9)
}
