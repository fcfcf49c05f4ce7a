import ArgumentParser
import DLCMEngine
import DLCMServer
import Dispatch
import Foundation
import HTTPServer

/// Serves the OpenAI-compatible API until SIGINT/SIGTERM, then drains. Every option also reads
/// an environment variable (DLCM_HOST, DLCM_PORT, ...) when not given on the command line.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve the OpenAI-compatible HTTP API.")

    @OptionGroup var options: ModelOptions
    @Option(name: .long, help: "Address to bind (default 127.0.0.1; env DLCM_HOST).") var host: String?
    @Option(name: .long, help: "Port, 0 = any free one (default 8080; env DLCM_PORT).") var port: Int?
    @Option(name: .long, help: "Sequences in the batch at once (default 16; env DLCM_MAX_BATCH).") var maxBatch: Int?
    @Option(name: .long, help: "Sequences that may wait for a slot; more is 429 (default 64; env DLCM_MAX_QUEUE).") var maxQueue: Int?
    @Option(name: .long, help: "Prompt tokens read per step (default 128; env DLCM_PREFILL_CHUNK).") var prefillChunk: Int?
    @Option(name: .long, help: "Largest request body in bytes; more is 413 (default 1048576; env DLCM_MAX_BODY_BYTES).") var maxBodyBytes: Int?
    @Option(name: .long, help: "Largest max_tokens (default 4096, and at most the context; env DLCM_MAX_TOKENS).") var maxTokens: Int?
    @Option(name: .long, help: "Largest n, also n times the prompts (default 8; env DLCM_MAX_N).") var maxN: Int?
    @Option(name: .long, help: "Seconds a completion may run before finish_reason timeout (default 600; env DLCM_REQUEST_TIMEOUT).") var requestTimeout: Double?
    @Option(name: .long, help: "Seconds of silence before an SSE keep-alive comment (default 5; env DLCM_KEEPALIVE).") var keepAlive: Double?
    @Option(name: .long, help: "Seconds an idle keep-alive connection stays open (default 5; env DLCM_IDLE_TIMEOUT).") var idleTimeout: Double?
    @Option(name: .long, help: "Seconds a client may take to send a request head (default 10; env DLCM_HEADER_TIMEOUT).") var headerTimeout: Double?
    @Option(name: .long, help: "Most open connections (default 1024; env DLCM_MAX_CONNECTIONS).") var maxConnections: Int?
    @Option(name: .long, help: "Model id to report (default: the checkpoint folder's name; env DLCM_MODEL_NAME).") var modelName: String?
    @Option(name: .long, help: "Seconds to let requests finish on shutdown (default 30; env DLCM_DRAIN_TIMEOUT).") var drainTimeout: Double?
    @Option(name: .long, help: "PEM certificate chain: serve HTTPS, with --tls-key (env DLCM_TLS_CERT).") var tlsCert: String?
    @Option(name: .long, help: "PEM private key of --tls-cert (env DLCM_TLS_KEY).") var tlsKey: String?
    @Option(name: .long, help: "Seconds a client may take to finish the TLS handshake (default 10; env DLCM_TLS_HANDSHAKE_TIMEOUT).") var tlsHandshakeTimeout: Double?
    @Flag(name: .long, inversion: .prefixedNo, help: "gzip JSON/text responses of 1 KiB or more for clients that accept it (default on; env DLCM_GZIP=on|off).") var gzip: Bool?

    func validate() throws {
        for (name, value, least) in [("--max-batch", maxBatch, 1), ("--max-queue", maxQueue, 0), ("--prefill-chunk", prefillChunk, 1),
                                     ("--max-body-bytes", maxBodyBytes, 1), ("--max-tokens", maxTokens, 1), ("--max-n", maxN, 1),
                                     ("--max-connections", maxConnections, 1)] {
            if let value, value < least { throw ValidationError("\(name) must be at least \(least)") }
        }
        if let port, !(0...65535).contains(port) { throw ValidationError("--port must be in 0...65535") }
        if let tlsHandshakeTimeout, !(tlsHandshakeTimeout > 0) { throw ValidationError("--tls-handshake-timeout must be positive") }
    }

    /// --tls-cert/--tls-key (or their env vars): both or neither. The files are loaded here,
    /// before the model, so that a bad path fails at once with OpenSSL's reason.
    private func tlsConfiguration(_ env: [String: String]) throws -> TLSConfiguration? {
        switch (tlsCert ?? env["DLCM_TLS_CERT"], tlsKey ?? env["DLCM_TLS_KEY"]) {
        case (nil, nil):
            return nil
        case let (cert?, key?):
            let tls = TLSConfiguration(certificateChainPath: cert, privateKeyPath: key)
            try tls.validate()
            return tls
        default:
            throw ValidationError("--tls-cert and --tls-key (DLCM_TLS_CERT, DLCM_TLS_KEY) must be given together")
        }
    }

    private func gzipEnabled(_ env: [String: String]) throws -> Bool {
        if let gzip { return gzip }
        guard let value = env["DLCM_GZIP"] else { return true }
        switch value.lowercased() {
        case "1", "on", "true", "yes": return true
        case "0", "off", "false", "no": return false
        default: throw ValidationError("DLCM_GZIP must be on or off, not \"\(value)\"")
        }
    }

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        func pick<T: LosslessStringConvertible>(_ value: T?, _ name: String, _ fallback: T) -> T {
            value ?? env["DLCM_" + name].flatMap(T.init) ?? fallback
        }
        let tls = try tlsConfiguration(env)
        let gzipOn = try gzipEnabled(env)
        let modelPath = env["DLCM_MODEL"].map { options.model == "weights/dlcm-7m-debian" ? $0 : options.model } ?? options.model
        let threads = options.threads ?? env["DLCM_THREADS"].flatMap(Int.init) ?? ProcessInfo.processInfo.activeProcessorCount
        let bundle = try ModelBundle(directory: URL(fileURLWithPath: modelPath), threads: threads)

        let engine = Engine(bundle: bundle, configuration: EngineConfiguration(
            maxRunning: pick(maxBatch, "MAX_BATCH", 16), maxWaiting: pick(maxQueue, "MAX_QUEUE", 64),
            prefillChunk: pick(prefillChunk, "PREFILL_CHUNK", 128)))
        var api = APIConfiguration()
        api.modelName = modelName ?? env["DLCM_MODEL_NAME"]
        api.maxTokensLimit = pick(maxTokens, "MAX_TOKENS", api.maxTokensLimit)
        api.maxChoices = pick(maxN, "MAX_N", api.maxChoices)
        api.requestTimeout = pick(requestTimeout, "REQUEST_TIMEOUT", api.requestTimeout)
        api.keepAliveInterval = pick(keepAlive, "KEEPALIVE", api.keepAliveInterval)
        var http = ServerConfiguration(host: pick(host, "HOST", "127.0.0.1"), port: pick(port, "PORT", 8080))
        http.limits.maxBodyBytes = pick(maxBodyBytes, "MAX_BODY_BYTES", 1 << 20)
        http.timeouts.idle = .milliseconds(Int(1000 * pick(idleTimeout, "IDLE_TIMEOUT", 5.0)))
        http.timeouts.header = .milliseconds(Int(1000 * pick(headerTimeout, "HEADER_TIMEOUT", 10.0)))
        http.maxConnections = pick(maxConnections, "MAX_CONNECTIONS", http.maxConnections)
        http.tls = tls
        http.timeouts.tlsHandshake = .milliseconds(Int(1000 * pick(tlsHandshakeTimeout, "TLS_HANDSHAKE_TIMEOUT", 10.0)))
        http.gzip = gzipOn

        try engine.start()
        let server = APIServer(engine: engine, configuration: api, http: http)
        try server.start()
        say("dlcm serve: model \(server.modelName) (\(bundle.model.config.maxSeqLen) tokens context, \(threads) threads) on \(tls == nil ? "http" : "https")://\(http.host):\(server.port)")

        // Block until SIGINT/SIGTERM, then drain: /ready turns 503, the listener closes and
        // requests in flight finish (or are cut at the drain timeout).
        let done = DispatchSemaphore(value: 0)
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { done.signal() }
            source.resume()
            sources.append(source)
        }
        done.wait()
        say("dlcm serve: draining")
        let drained = server.drain(timeout: .milliseconds(Int(1000 * pick(drainTimeout, "DRAIN_TIMEOUT", 30.0))))
        // Engine first: sequences still running after the drain timeout end as `cancelled`, and
        // their answers are posted before the connections close.
        engine.stop()
        server.stop()
        say("dlcm serve: stopped\(drained ? "" : " (drain timed out)")")
        _ = sources
    }
}

/// A line on stdout, unbuffered (scripts wait for the "on http://" or "on https://" line).
private func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
