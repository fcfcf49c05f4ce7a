import ArgumentParser
import Foundation

/// Drives a running server with concurrent streamed completions and prints aggregate tokens/s
/// per concurrency level: the HTTP side of `bench/serve_bench.sh`, and a quick load test of any
/// deployment (`dlcm load --url http://host:8080`).
struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load", abstract: "Stream completions from a running server at several concurrency levels and print tokens/s.")

    @Option(name: .long, help: "The server.") var url = "http://127.0.0.1:8080"
    @Option(name: .long, parsing: .upToNextOption, help: "Concurrent streams per level.") var streams: [Int] = [1, 4, 16]
    @Option(name: .long, help: "Requests per level, shared among its streams (rounded up to a whole number each; each stream sends its share one after the other, on one keep-alive connection).") var requests = 64
    @Option(name: .long, help: "Completion tokens per request (ignore_eos: always this many).") var maxTokens = 128
    @Option(name: .long, help: "Microseconds the client sleeps between polls of its sockets (default 0: block in poll, woken by every write). Against a server writing every token, a sleep reads many writes per wake-up; first-token times are then known to within it.") var pollInterval = 0
    @Option(name: .long, help: "Prompt of every request.") var prompt = "The quick brown fox jumps over the lazy dog. "

    func validate() throws {
        guard streams.allSatisfy({ $0 >= 1 }), requests >= 1, maxTokens >= 1, pollInterval >= 0 else {
            throw ValidationError("--streams, --requests and --max-tokens must be at least 1")
        }
        _ = try target()
    }

    func target() throws -> (host: String, port: UInt16) {
        guard let u = URLComponents(string: url), u.scheme == "http", let host = u.host, !host.isEmpty else {
            throw ValidationError("--url must be http://host[:port] (TLS servers: measure on their plain port)")
        }
        return (host, UInt16(u.port ?? 80))
    }

    func run() throws {
        let (host, port) = try target()
        let load = StreamLoad(host: host, port: port, prompt: prompt, maxTokens: maxTokens, pollIntervalMicros: pollInterval)
        // Warm-up at the largest level: the server's scratch and caches grow to their working size.
        let widest = streams.max()!
        _ = try load.run(streams: widest, requests: 1)
        for n in streams {
            let perStream = max(1, (requests + n - 1) / n)
            let steps0 = load.engineSteps()
            let r = try load.run(streams: n, requests: perStream)
            // As the in-process bench prints it: 1.0 when every slot of every step made a token
            // (the gap between one request's end and the next one's start leaves slots empty).
            var fill: Double?
            if let s0 = steps0, let s1 = load.engineSteps(), s1 > s0 { fill = Double(r.completionTokens) / Double(n) / Double(s1 - s0) }
            print(String(format: "http streams %3d: %8.1f tok/s aggregate, median TTFT %7.1f ms  (%d tokens in %.2f s, %@ of the batch's slots; client CPU %.0f%% of a core)",
                         n, r.tokensPerSecond, 1000 * r.medianTTFT, r.completionTokens, r.seconds,
                         fill.map { String(format: "%.3f", $0) } ?? "?", 100 * r.cpuSeconds / r.seconds))
        }
    }
}
