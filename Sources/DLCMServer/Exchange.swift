import DLCMRuntime
import HTTPServer
import Synchronization

/// One request and its responder, with the route template it matched: every answer goes through
/// here so that each request is counted once, by route and status, with its duration.
final class Exchange: Sendable {
    let request: HTTPRequest
    let responder: HTTPResponder
    let route: String
    private let metrics: HTTPMetrics
    private let started = monotonicNanoseconds()
    private let recorded = Atomic<Bool>(false)

    init(request: HTTPRequest, responder: HTTPResponder, route: String, metrics: HTTPMetrics) {
        self.request = request
        self.responder = responder
        self.route = route
        self.metrics = metrics
    }

    /// Counts the request (once); 499 is the conventional status of a client that went away.
    func record(_ status: Int) {
        guard !recorded.exchange(true, ordering: .relaxed) else { return }
        metrics.record(route: route, status: status, seconds: Double(monotonicNanoseconds() - started) / 1e9)
    }

    func respond(_ json: JSON, status: HTTPStatus = .ok) {
        respond(status: status, headers: ["Content-Type": "application/json"], body: json.bytes)
    }

    func respond(status: HTTPStatus, headers: HTTPHeaders, body: [UInt8]) {
        record(responder.respond(status: status, headers: headers, body: body) ? status.code : 499)
    }

    func respond(_ error: APIError) {
        respond(status: error.status, headers: error.responseHeaders, body: error.object.bytes)
    }

    @discardableResult
    func startStream(headers: HTTPHeaders) -> Bool { responder.startStream(status: .ok, headers: headers) }

    func write(_ bytes: [UInt8]) { responder.write(bytes) }

    func finishStream() { record(responder.finish() ? 200 : 499) }

    /// The client went away before the answer was done.
    func onCancel(_ body: @escaping @Sendable () -> Void) {
        responder.onCancel { [self] in
            record(499)
            body()
        }
    }
}
