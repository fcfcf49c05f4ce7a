import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HTTPServer

/// Starts a server on an ephemeral port for the duration of `body`.
func withServer(
    _ configuration: ServerConfiguration = ServerConfiguration(),
    handler: @escaping HTTPHandler,
    _ body: (Server) throws -> Void
) throws {
    let server = Server(configuration: configuration, handler: handler)
    try server.start()
    defer { server.stop() }
    try body(server)
}

/// A handler answering `METHOD path body-length` for any request.
let echoHandler: HTTPHandler = { request, responder in
    responder.respond(
        status: .ok, headers: ["Content-Type": "text/plain"],
        body: "\(request.method) \(request.path) \(String(decoding: request.body, as: UTF8.self))")
}
