import Locking
import DLCMEngine
import DLCMRuntime
import Foundation
import HTTPServer
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Tokenization

/// The OpenAI-compatible API over an `Engine`: owns the HTTP server and routes requests.
///
///     let engine = Engine(bundle: try ModelBundle(directory: dir, threads: 2))
///     try engine.start()
///     let api = APIServer(engine: engine, http: ServerConfiguration(port: 8080))
///     try api.start()
///     ...
///     api.drain(timeout: .seconds(30)); api.stop(); engine.stop()
public final class APIServer: Sendable {
    public let engine: Engine
    public let configuration: APIConfiguration
    public let modelName: String
    let httpMetrics = HTTPMetrics()
    /// The ticks streamed events leave on.
    let streamClock: StreamClock
    let created = Int(Date().timeIntervalSince1970)
    /// Where generation requests are parsed, tokenized, templated and handed to the engine, in
    /// arrival order, off the event loop (`Route.offLoop`).
    let preparation = DispatchQueue(label: "dlcm.prepare", qos: .userInitiated)
    private let draining = Atomic<Bool>(false)
    private let server = Locked<Server?>(nil)
    private let httpConfiguration: ServerConfiguration

    public init(engine: Engine, configuration: APIConfiguration = APIConfiguration(), http: ServerConfiguration = ServerConfiguration()) {
        self.engine = engine
        self.configuration = configuration
        self.modelName = configuration.modelName ?? engine.bundle.name
        self.httpConfiguration = http
        streamClock = StreamClock(interval: configuration.streamInterval, maxInterval: configuration.streamIntervalMax)
    }

    var tokenizer: Tokenizer { engine.tokenizer }
    /// What the API knows of the model: the bundle's config (never the model object itself).
    var modelConfig: DLCMConfig { engine.bundle.config }
    public var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// Binds and starts serving.
    public func start() throws {
        let http = Server(configuration: httpConfiguration, quick: { [weak self] head, answer in self?.quickAnswer(head, &answer) ?? false }) { [weak self] request, responder in
            guard let self else { responder.respondError(status: .serviceUnavailable, message: "shutting down"); return }
            self.handle(request, responder)
        }
        try http.start()
        server.withLock { $0 = http }
    }

    /// The bound port (0 before start).
    public var port: Int { server.withLock { $0?.port ?? 0 } }
    public var httpCounters: ServerCounters? { server.withLock { $0?.counters } }
    /// The HTTP event loop's thread while running (for pinning it to CPUs).
    public var loopThread: pthread_t? { server.withLock { $0?.loopThread } }

    /// Stops taking work: /ready and new completions answer 503, the listener closes, and requests
    /// in flight finish. Returns whether every connection closed within the timeout.
    @discardableResult
    public func drain(timeout: Duration) -> Bool {
        draining.store(true, ordering: .relaxed)
        guard let http = server.withLock({ $0 }) else { return true }
        http.stopAccepting()
        return http.waitUntilDrained(timeout: timeout)
    }

    public func stop() {
        let http = server.withLock { s -> Server? in defer { s = nil }; return s }
        http?.stop()
    }
}
