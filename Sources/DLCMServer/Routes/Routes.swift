import HTTPServer
import StrictJSON

/// The route table: path template, allowed methods, handler. One place maps paths to code, and
/// thrown errors to responses.
extension APIServer {
    typealias RouteHandler = @Sendable (APIServer, Exchange) throws -> Void

    struct Route: Sendable {
        let template: String
        let methods: [String]
        let handler: RouteHandler
        /// Run on the preparation queue instead of the event loop: routes that tokenize a prompt,
        /// render a chat template or compile a schema (up to a tenth of a second for a large
        /// one), work that would hold up every other connection's bytes on the loop.
        /// The template before a final `{name}` segment (the whole template when it has none),
        /// split once here: matching runs for every route on every request.
        let prefix: String
        let parameterized: Bool
        let offLoop: Bool

        init(template: String, methods: [String], offLoop: Bool = false, handler: @escaping RouteHandler) {
            self.template = template
            self.methods = methods
            self.offLoop = offLoop
            self.handler = handler
            if let brace = template.utf8.firstIndex(of: UInt8(ascii: "{")) {
                prefix = String(template[..<brace])
                parameterized = true
            } else {
                prefix = template
                parameterized = false
            }
        }

        /// POST bodies must be JSON.
        var takesJSON: Bool { methods.contains("POST") }

        /// Exact paths, or a final `{name}` segment matching one non-empty segment.
        func matches(_ path: String) -> Bool {
            guard parameterized else { return path == template }
            let rest = path.utf8.dropFirst(prefix.utf8.count)
            return path.hasPrefix(prefix) && !rest.isEmpty && !rest.contains(UInt8(ascii: "/"))
        }
    }

    static let routes: [Route] = [
        Route(template: "/v1/completions", methods: ["POST"], offLoop: true) { try $0.completions($1) },
        Route(template: "/v1/chat/completions", methods: ["POST"], offLoop: true) { try $0.chatCompletions($1) },
        Route(template: "/v1/segment", methods: ["POST"], offLoop: true) { try $0.segment($1) },
        Route(template: "/v1/tokenize", methods: ["POST"], offLoop: true) { try $0.tokenize($1) },
        Route(template: "/v1/detokenize", methods: ["POST"], offLoop: true) { try $0.detokenize($1) },
        Route(template: "/v1/models", methods: ["GET", "HEAD"]) { try $0.models($1) },
        Route(template: "/v1/models/{model}", methods: ["GET", "HEAD"]) { try $0.model($1) },
        Route(template: "/health", methods: ["GET", "HEAD"]) { $0.health($1) },
        Route(template: "/ready", methods: ["GET", "HEAD"]) { $0.ready($1) },
        Route(template: "/metrics", methods: ["GET", "HEAD"]) { $0.metricsRoute($1) },
    ]

    /// The HTTP handler: runs on the event loop thread. Routing, the key and the media type are
    /// checked here; routes that tokenize, render a template or compile a schema then run on the
    /// preparation queue (`offLoop`), the others here. Nothing blocks. Order: CORS preflight (no key needed, as browsers send
    /// none), then the API key (before 404, so the route table is not probed without a key), then
    /// routing, method and media type.
    func handle(_ request: HTTPRequest, _ responder: HTTPResponder) {
        let path = String(request.path)
        let route = Self.routes.first { $0.matches(path) }
        let id = RequestID.resolve(request.headers["X-Request-Id"])
        var common: HTTPHeaders = ["X-Request-Id": id]
        for field in configuration.cors.responseHeaders(origin: request.headers["Origin"]) { common.add(name: field.name, value: field.value) }
        let exchange = Exchange(request: request, responder: responder, route: route?.template ?? "unmatched", id: id,
                                commonHeaders: common, metrics: httpMetrics, logger: configuration.logger)
        if request.method == "OPTIONS", configuration.cors.isEnabled, let route {
            preflight(exchange, methods: route.methods)
            return
        }
        guard isAuthorized(request, path: path) else {
            exchange.respond(.invalidAPIKey(presented: request.headers.contains("Authorization")))
            return
        }
        guard let route else {
            exchange.respond(.notFound("no route for \(request.method) \(path)"))
            return
        }
        guard route.methods.contains(request.method) else {
            exchange.respond(.methodNotAllowed(request.method, allow: route.methods))
            return
        }
        if route.takesJSON, let type = request.headers["Content-Type"] {
            let mime = type.split(separator: ";")[0].trimmingCharacters(in: .whitespaces).lowercased()
            guard mime == "application/json" || mime.hasSuffix("+json") else {
                exchange.respond(.unsupportedMediaType)
                return
            }
        }
        if route.takesJSON, let coding = request.headers["Content-Encoding"],
           coding.trimmingCharacters(in: .whitespaces).lowercased() != "identity" {
            exchange.respond(.unsupportedContentEncoding(coding))
            return
        }
        if route.offLoop {
            preparation.async { self.run(route, exchange) }
        } else {
            run(route, exchange)
        }
    }

    private func run(_ route: Route, _ exchange: Exchange) {
        do {
            try route.handler(self, exchange)
        } catch let error as APIError {
            exchange.respond(error)
        } catch {
            exchange.respond(.internalError("\(error)"))
        }
    }
}
