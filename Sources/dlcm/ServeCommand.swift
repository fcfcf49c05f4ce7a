import ArgumentParser
import DLCMEngine
import DLCMServer
import Dispatch
import Foundation
import HTTPServer
import Kernels
import Logging
import MonotonicTime

/// Serves the OpenAI-compatible API until SIGINT/SIGTERM, then drains. Every option also reads
/// an environment variable (DLCM_HOST, DLCM_PORT, ...) when not given on the command line; a
/// variable that does not parse stops startup (see `Settings`).
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve the OpenAI-compatible HTTP API.",
        discussion: """
            Every option also reads DLCM_<NAME> from the environment when not given as a flag \
            (--model: DLCM_MODEL, --threads: DLCM_THREADS, --max-batch: DLCM_MAX_BATCH, ...). A variable \
            that does not parse, a value out of range, an unreadable or empty key file or broken \
            weights stop startup with one line on stderr: exit status 2 for a setting, 1 otherwise.

            SIGINT/SIGTERM drain: /ready turns 503, the listener closes, requests and streams in \
            flight finish (up to --drain-timeout), then exit 0. A second signal exits at once with \
            128 + the signal (130 for SIGINT, 143 for SIGTERM).
            """)

    @OptionGroup var options: ModelOptions
    @Option(name: .long, help: "Address to bind (default 127.0.0.1; env DLCM_HOST).") var host: String?
    @Option(name: .long, help: "Port, 0 = any free one (default 8080; env DLCM_PORT).") var port: Int?
    @Option(name: .long, help: "Sequences in the batch at once (default 16; env DLCM_MAX_BATCH).") var maxBatch: Int?
    @Option(name: .long, help: "Sequences that may wait for a slot; more is 429 (default 64; env DLCM_MAX_QUEUE).") var maxQueue: Int?
    @Option(name: .long, help: "Prompt tokens read per step, over all prompts being read (default 128; env DLCM_PREFILL_CHUNK).") var prefillChunk: Int?
    @Option(name: .long, help: "Largest request body in bytes; more is 413 (default 1048576; env DLCM_MAX_BODY_BYTES).") var maxBodyBytes: Int?
    @Option(name: .long, help: "Largest max_tokens (default 4096, and at most the context; env DLCM_MAX_TOKENS).") var maxTokens: Int?
    @Option(name: .long, help: "Largest n, also n times the prompts (default 8; env DLCM_MAX_N).") var maxN: Int?
    @Option(name: .long, help: "Seconds a completion may run before finish_reason timeout (default 600; env DLCM_REQUEST_TIMEOUT).") var requestTimeout: Double?
    @Option(name: .long, help: "Seconds of silence before an SSE keep-alive comment (default 5; env DLCM_KEEPALIVE).") var keepAlive: Double?
    @Option(name: .long, help: "Milliseconds a stream's tokens may wait to leave together with up to 2 streams open: one write per interval instead of one per token when they come faster (first token and end at once; 0 = a write per token, at most 1000; default 5; env DLCM_STREAM_INTERVAL_MS).") var streamIntervalMs: Double?
    @Option(name: .long, help: "Milliseconds the stream interval may grow to with more streams open (the interval times the streams over 2, at most this; default 50, at most 1000; env DLCM_STREAM_INTERVAL_MAX_MS).") var streamIntervalMaxMs: Double?
    @Option(name: .long, help: "Seconds an idle keep-alive connection stays open (default 5; env DLCM_IDLE_TIMEOUT).") var idleTimeout: Double?
    @Option(name: .long, help: "Seconds a client may take to send a request head (default 10; env DLCM_HEADER_TIMEOUT).") var headerTimeout: Double?
    @Option(name: .long, help: "Most open connections (default 1024; env DLCM_MAX_CONNECTIONS).") var maxConnections: Int?
    @Option(name: .long, help: "Model id to report (default: the checkpoint folder's name; env DLCM_MODEL_NAME).") var modelName: String?
    @Option(name: .long, help: "Seconds to let requests finish after SIGINT/SIGTERM; a second signal exits at once (default 30; env DLCM_DRAIN_TIMEOUT).") var drainTimeout: Double?
    @OptionGroup(title: "Access") var access: AccessOptions
    @OptionGroup(title: "Logging") var logging: LoggingOptions
    @Option(name: .long, help: "PEM certificate chain: serve HTTPS, with --tls-key (env DLCM_TLS_CERT).") var tlsCert: String?
    @Option(name: .long, help: "PEM private key of --tls-cert (env DLCM_TLS_KEY).") var tlsKey: String?
    @Option(name: .long, help: "Seconds a client may take to finish the TLS handshake (default 10; env DLCM_TLS_HANDSHAKE_TIMEOUT).") var tlsHandshakeTimeout: Double?
    @Flag(name: .long, inversion: .prefixedNo, help: "Pin threads to CPUs (default on; env DLCM_PIN_THREADS=on|off): with fewer --threads than CPUs, compute and the HTTP event loop on different CPUs; with as many, each compute thread on its own CPU and the loop with the last one.") var pinThreads: Bool?
    @Option(name: .long, help: "Nice value of the compute threads, above the HTTP event loop's, so requests and responses do not wait behind a running step (default 5, 0-19; 0 = same as the loop; env DLCM_COMPUTE_NICE).") var computeNice: Int?
    @Option(name: .long, help: "MiB of prompt states the prefix cache keeps, so requests that repeat a prompt's start resume instead of reading it again; 0 = off (default \(EngineConfiguration.defaultPrefixCacheBytes >> 20); env DLCM_PREFIX_CACHE_MB).") var prefixCacheMb: Int?
    @Flag(name: .long, inversion: .prefixedNo, help: "With API keys, let requests made with different keys share cached prompts (default off: a shared cache lets one tenant time another's prompts; env DLCM_PREFIX_CACHE_SHARED=on|off).") var prefixCacheShared: Bool?
    @Flag(name: .long, inversion: .prefixedNo, help: "gzip JSON/text responses of 1 KiB or more for clients that accept it (default on; env DLCM_GZIP=on|off).") var gzip: Bool?

    /// Startup failures (bad settings, broken weights, a port in use) end as one line on stderr
    /// and a non-zero status: 2 for a setting, 1 for anything else.
    func run() throws {
        do {
            try serve()
        } catch let error as StartupError {
            complain(error.description)
            throw ExitCode(2)
        } catch {
            complain("\(error)")
            throw ExitCode(1)
        }
    }

    /// --tls-cert/--tls-key (or their variables): both or neither. The files are loaded here,
    /// before the model, so that a bad path fails at once with OpenSSL's reason.
    private func tlsConfiguration(_ settings: Settings) throws -> TLSConfiguration? {
        switch (settings.string(tlsCert, "TLS_CERT"), settings.string(tlsKey, "TLS_KEY")) {
        case (nil, nil):
            return nil
        case let (cert?, key?):
            let tls = TLSConfiguration(certificateChainPath: cert, privateKeyPath: key)
            do { try tls.validate() } catch { throw StartupError("\(error)") }
            return tls
        default:
            throw StartupError("--tls-cert and --tls-key (DLCM_TLS_CERT, DLCM_TLS_KEY) must be given together")
        }
    }

    private func serve() throws {
        HeapTuning.keepFreedHeap(bytes: HeapTuning.serverBytes)
        let settings = Settings()
        let env = settings.environment
        let tls = try tlsConfiguration(settings)
        let scheme = tls == nil ? "http" : "https"
        let modelPath = env["DLCM_MODEL"].map { options.model == ModelOptions.shippedModel ? $0 : options.model } ?? options.model
        let threads = try settings.int(options.threads, "THREADS", ProcessInfo.processInfo.activeProcessorCount, least: 1)
        let products = try options.products(settings)
        let kvCache = try options.cacheElement(settings)

        let engineConfiguration = EngineConfiguration(
            maxRunning: try settings.int(maxBatch, "MAX_BATCH", 16, least: 1), maxWaiting: try settings.int(maxQueue, "MAX_QUEUE", 64, least: 0),
            prefillChunk: try settings.int(prefillChunk, "PREFILL_CHUNK", 128, least: 1),
            prefixCacheBytes: try settings.int(prefixCacheMb, "PREFIX_CACHE_MB", EngineConfiguration.defaultPrefixCacheBytes >> 20, least: 0, most: 1 << 20) << 20)
        var api = APIConfiguration()
        api.modelName = settings.string(modelName, "MODEL_NAME")
        api.maxTokensLimit = try settings.int(maxTokens, "MAX_TOKENS", api.maxTokensLimit, least: 1)
        api.maxChoices = try settings.int(maxN, "MAX_N", api.maxChoices, least: 1)
        api.requestTimeout = try settings.seconds(requestTimeout, "REQUEST_TIMEOUT", api.requestTimeout)
        api.keepAliveInterval = try settings.seconds(keepAlive, "KEEPALIVE", api.keepAliveInterval)
        api.streamInterval = try settings.seconds(streamIntervalMs, "STREAM_INTERVAL_MS", api.streamInterval * 1000, orZero: true, unit: "milliseconds") / 1000
        // Past a second, a stream would look stalled to its reader (and to proxies' read timeouts).
        guard api.streamInterval <= 1 else {
            throw StartupError("--stream-interval-ms / DLCM_STREAM_INTERVAL_MS must be at most 1000 (got \(api.streamInterval * 1000))")
        }
        api.streamIntervalMax = try settings.seconds(streamIntervalMaxMs, "STREAM_INTERVAL_MAX_MS", api.streamIntervalMax * 1000, orZero: true, unit: "milliseconds") / 1000
        guard api.streamIntervalMax <= 1 else {
            throw StartupError("--stream-interval-max-ms / DLCM_STREAM_INTERVAL_MAX_MS must be at most 1000 (got \(api.streamIntervalMax * 1000))")
        }
        try access.apply(to: &api, settings: settings)
        api.prefixCacheShared = try settings.bool(prefixCacheShared, "PREFIX_CACHE_SHARED", false)
        var http = ServerConfiguration(host: settings.string(host, "HOST") ?? "127.0.0.1", port: try settings.int(port, "PORT", 8080, least: 0, most: 65535))
        http.limits.maxBodyBytes = try settings.int(maxBodyBytes, "MAX_BODY_BYTES", 1 << 20, least: 1)
        http.timeouts.idle = .milliseconds(Int(1000 * (try settings.seconds(idleTimeout, "IDLE_TIMEOUT", 5.0))))
        http.timeouts.header = .milliseconds(Int(1000 * (try settings.seconds(headerTimeout, "HEADER_TIMEOUT", 10.0))))
        http.maxConnections = try settings.int(maxConnections, "MAX_CONNECTIONS", http.maxConnections, least: 1)
        let drain = try settings.seconds(drainTimeout, "DRAIN_TIMEOUT", 30.0, orZero: true)
        let nice = try settings.int(computeNice, "COMPUTE_NICE", ThreadPriority.defaultComputeNice, least: 0, most: 19)
        http.tls = tls
        http.timeouts.tlsHandshake = .milliseconds(Int(1000 * (try settings.seconds(tlsHandshakeTimeout, "TLS_HANDSHAKE_TIMEOUT", 10.0))))
        http.gzip = try settings.bool(gzip, "GZIP", true)

        let log = try logging.bootstrap(settings: settings)
        api.logPrompts = log.prompts
        let logger = Logger(label: "dlcm.serve")
        api.logger = Logger(label: "dlcm.server")

        let loadStart = monotonicNanoseconds()
        let bundle = try ModelBundle(directory: URL(fileURLWithPath: modelPath), threads: threads, quantizedProducts: products,
                                     kvCache: kvCache)
        let loadSeconds = Double(monotonicNanoseconds() - loadStart) / 1e9
        let engine = Engine(bundle: bundle, configuration: engineConfiguration)
        try engine.start()
        let server = APIServer(engine: engine, configuration: api, http: http)
        do { try server.start() } catch { engine.stop(); throw error }
        let pinning = try settings.bool(pinThreads, "PIN_THREADS", true) ? ThreadPlacement.apply(engine: engine, loop: server.loopThread, threads: threads) : "off"
        let computeNice = ThreadPriority.apply(engine: engine, loop: server.loopThread, computeNice: nice)
        // Signals are taken over only now: until the server is up, SIGTERM simply ends the process.
        let signals = ShutdownSignals(logger: logger)
        logger.info("started", metadata: [
            "model": .string(server.modelName), "address": .string("\(scheme)://\(http.host):\(server.port)"),
            "context": .stringConvertible(bundle.model.config.maxSeqLen), "threads": .stringConvertible(threads),
            "load_seconds": .string(String(format: "%.2f", loadSeconds)), "dtype": .string(bundle.model.config.dtype),
            "quantized_products": .string(bundle.model.config.isQuantized ? products.rawValue : "-"), "kv_cache": .string(kvCache.rawValue),
            "packed_mb": .string(String(format: "%.1f", Double(bundle.model.packedWeights?.bytes ?? 0) / 1e6)),
            "max_batch": .stringConvertible(engineConfiguration.maxRunning),
            "prefix_cache_mb": .stringConvertible(engineConfiguration.prefixCacheBytes >> 20), "prefix_cache_shared": .stringConvertible(api.prefixCacheShared), "cpus": .string(pinning), "compute_nice": .string(computeNice), "api_keys": .stringConvertible(api.apiKeys.count),
            "open_endpoints": .string(api.openEndpoints.sorted().joined(separator: ",")), "cors": .string(describe(api.cors)),
            "log_level": .string(log.level.rawValue), "log_prompts": .stringConvertible(log.prompts),
        ])
        // The stdout line last: whoever waits for it may send requests at once, and their log
        // lines must come after "started" (seen under load: a request line first).
        say("dlcm serve: model \(server.modelName) (\(bundle.model.config.maxSeqLen) tokens context, \(threads) threads) on \(scheme)://\(http.host):\(server.port)")
        if api.apiKeys.isEmpty {
            logger.notice("authentication is off: no API keys configured (set --api-keys or --api-keys-file)")
        }

        // Drain: /ready turns 503, the listener closes, and requests in flight (streams too)
        // finish, up to the drain timeout.
        let signal = signals.wait()
        logger.info("draining", metadata: ["signal": .string(signal), "open_connections": .stringConvertible(server.httpCounters?.openConnections ?? 0),
                                           "drain_timeout_s": .stringConvertible(drain)])
        let drained = server.drain(timeout: .milliseconds(Int(1000 * drain)))
        // Engine first: sequences still running after the drain timeout end as `cancelled`, and
        // their answers are posted before the connections close.
        engine.stop()
        server.stop()
        if drained {
            logger.info("stopped")
        } else {
            logger.warning("stopped: drain timed out; requests still running were cut", metadata: ["drain_timeout_s": .stringConvertible(drain)])
        }
        LogSink.flushStandardError()   // the log's last lines before the process exits
        _ = signals
    }
}

private func describe(_ cors: CORSPolicy) -> String {
    switch cors {
    case .off: "off"
    case .anyOrigin: "*"
    case .origins(let set): set.sorted().joined(separator: ",")
    }
}

/// One line on stderr for a startup failure (an error's own line breaks become spaces).
private func complain(_ message: String) {
    let line = message.split(whereSeparator: \.isNewline).joined(separator: " ")
    LogSink.flushStandardError()   // log lines already queued go first
    FileHandle.standardError.write(Data("dlcm serve: error: \(line)\n".utf8))
}

/// A line on stdout, unbuffered (scripts wait for the "on http://" or "on https://" line).
private func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
