import HTTPServer
import Logging
import MonotonicTime

/// Probes answered on the event loop from the request head (`QuickHandler`): GET and HEAD of
/// /health and /ready, the bytes the routes would send, counted in the metrics and logged as they
/// would be, without a responder, an exchange or a route lookup. Kubelets, load balancers and
/// monitors ask every few seconds from every node; through the general path a probe's Swift
/// objects cost about four times what reading and writing its socket does (docs/performance.md,
/// "HTTP and TLS"). Anything else (another method, a CORS request, a probe that needs an API key)
/// takes the general path.
extension APIServer {
    func quickAnswer(_ head: HTTPRequestHead, _ answer: inout QuickAnswer) -> Bool {
        guard head.method == "GET" || head.method == "HEAD" else { return false }
        let path = head.path
        let health: Bool
        if path == "/health" { health = true } else if path == "/ready" { health = false } else { return false }
        let route = health ? "/health" : "/ready"
        guard !configuration.cors.isEnabled || head.headers["Origin"] == nil,
              configuration.apiKeys.isEmpty || configuration.openEndpoints.contains(route) else { return false }
        answer.status = health ? healthAnswer(into: &answer.body) : readyAnswer(into: &answer.body)
        answer.headerLines += Self.probeHeaderStart
        let idStart = answer.headerLines.count
        RequestID.append(resolving: head.headers["X-Request-Id"], to: &answer.headerLines)
        let idEnd = answer.headerLines.count
        answer.headerLines += "\r\n".utf8
        // Counted with no duration (it is a microsecond or two): a clock read each side was a
        // tenth of the Swift side of a probe on a VM.
        let ok = answer.status.code == 200
        httpMetrics.recordProbe(health: health, ok: ok)
        // As `Exchange.record` logs it: answered probes at debug, a failing one at error.
        let level: Logger.Level = ok ? .debug : .error
        if configuration.logger.logLevel <= level {
            let now = monotonicNanoseconds()
            configuration.logger.log(level: level, "request", metadata: RequestLog().metadata(
                id: String(decoding: answer.headerLines[idStart..<idEnd], as: UTF8.self), method: head.method, route: route,
                status: answer.status.code, started: now, now: now))
        }
        return true
    }

    private static let probeHeaderStart = Array("Content-Type: application/json\r\nX-Request-Id: ".utf8)
}
