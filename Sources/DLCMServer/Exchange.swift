import DLCMRuntime
import HTTPServer
import Locking
import Logging
import Synchronization
import MonotonicTime
import StrictJSON

/// One request and its responder, with the route template it matched: every answer goes through
/// here so that each request is counted and logged once, by route and status, with its duration,
/// and every answer (errors and streams too) carries the request id and CORS headers.
final class Exchange: Sendable {
    let request: HTTPRequest
    let responder: HTTPResponder
    let route: String
    let id: String
    /// X-Request-Id and, for an allowed origin, the CORS headers: added to every answer.
    let commonHeaders: HTTPHeaders
    private let metrics: HTTPMetrics
    private let logger: Logger
    private let started = monotonicNanoseconds()
    private let recorded = Atomic<Bool>(false)
    private let log = Locked(RequestLog())

    init(request: HTTPRequest, responder: HTTPResponder, route: String, id: String, commonHeaders: HTTPHeaders,
         metrics: HTTPMetrics, logger: Logger) {
        self.request = request
        self.responder = responder
        self.route = route
        self.id = id
        self.commonHeaders = commonHeaders
        self.metrics = metrics
        self.logger = logger
    }

    /// Counts and logs the request (once); 499 is the conventional status of a client that went away.
    /// Routes whose answered requests are logged at debug, not info.
    static let quietRoutes: Set<String> = ["/health", "/ready", "/metrics"]

    func record(_ status: Int) {
        guard !recorded.exchange(true, ordering: .relaxed) else { return }
        let now = monotonicNanoseconds()
        metrics.record(route: route, status: status, seconds: Double(now - started) / 1e9)
        let entry = log.withLock { $0 }
        // A stream that failed after its 200 head went out is an error all the same. Answered
        // probes and scrapes are logged at debug: they come every few seconds from every kubelet,
        // load balancer and Prometheus, would drown the request lines, and at info their line
        // was a third of a probe's CPU.
        let level: Logger.Level = status >= 500 || entry.error != nil ? .error
            : status < 400 && Exchange.quietRoutes.contains(route) ? .debug : .info
        logger.log(level: level, "request", metadata: entry.metadata(id: id, method: request.method, route: route, status: status,
                                                                    started: started, now: now))
    }

    /// Adds to what the log line will report (tokens, finish reason, ...).
    func note(_ change: (inout RequestLog) -> Void) { log.withLock(change) }

    func respond(_ json: JSON, status: HTTPStatus = .ok) {
        respond(status: status, headers: ["Content-Type": "application/json"], body: json.bytes)
    }

    func respond(status: HTTPStatus, headers: HTTPHeaders, body: [UInt8]) {
        record(responder.respond(status: status, headers: withCommon(headers), body: body) ? status.code : 499)
    }

    func respond(_ error: APIError) {
        if error.status.code >= 500 { note { $0.error = error.message } }
        respond(status: error.status, headers: error.responseHeaders, body: error.object.bytes)
    }

    @discardableResult
    func startStream(headers: HTTPHeaders) -> Bool { responder.startStream(status: .ok, headers: withCommon(headers)) }

    func write(_ bytes: [UInt8]) { responder.write(bytes) }

    func finishStream() { record(responder.finish() ? 200 : 499) }

    /// The client went away before the answer was done.
    func onCancel(_ body: @escaping @Sendable () -> Void) {
        responder.onCancel { [self] in
            record(499)
            body()
        }
    }

    private func withCommon(_ headers: HTTPHeaders) -> HTTPHeaders {
        var h = headers
        for field in commonHeaders { h.add(name: field.name, value: field.value) }
        return h
    }
}
