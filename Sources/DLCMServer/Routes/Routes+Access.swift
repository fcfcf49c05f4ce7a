import HTTPServer

/// The checks `handle` makes before routing: API key and CORS preflight.
extension APIServer {
    /// No keys configured, an open path, or a valid `Authorization: Bearer <key>`.
    func isAuthorized(_ request: HTTPRequest, path: String) -> Bool {
        configuration.apiKeys.isEmpty || configuration.openEndpoints.contains(path)
            || configuration.apiKeys.accepts(authorization: request.headers["Authorization"])
    }

    /// A CORS preflight: 204 with the allowed methods and headers for an allowed origin; 403
    /// with no CORS header otherwise, so the browser blocks the real request. No key is asked
    /// for: browsers never send credentials on a preflight.
    func preflight(_ exchange: Exchange, methods: [String]) {
        guard let origin = exchange.request.headers["Origin"], configuration.cors.allows(origin) else {
            exchange.respond(.originNotAllowed(exchange.request.headers["Origin"]))
            return
        }
        exchange.respond(status: .noContent, headers: configuration.cors.preflightHeaders(methods: methods), body: [])
    }
}
