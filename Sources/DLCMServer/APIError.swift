import HTTPServer
import StrictJSON

/// An error the API answers with: the status and the OpenAI error object
/// `{"error": {"message", "type", "param", "code"}}`. Every route throws these; `Routes` maps
/// anything else to 500.
struct APIError: Error, Sendable {
    var status: HTTPStatus
    var message: String
    var type: String
    var param: String?
    var code: String?
    var retryAfter: Int?
    var headers: HTTPHeaders = HTTPHeaders()

    static func badRequest(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }

    /// A parameter with the wrong type or value.
    static func invalid(_ param: String, _ why: String) -> APIError {
        badRequest("'\(param)' \(why)", param: param, code: "invalid_parameter")
    }

    static func notFound(_ message: String, code: String = "not_found") -> APIError {
        APIError(status: .notFound, message: message, type: "invalid_request_error", code: code)
    }

    static func methodNotAllowed(_ method: String, allow: [String]) -> APIError {
        APIError(status: .methodNotAllowed, message: "method \(method) is not allowed here; use \(allow.joined(separator: ", "))",
                 type: "invalid_request_error", code: "method_not_allowed", headers: ["Allow": allow.joined(separator: ", ")])
    }

    static let unsupportedMediaType = APIError(
        status: 415, message: "the request body must be JSON (Content-Type: application/json)",
        type: "invalid_request_error", code: "unsupported_media_type", headers: ["Accept-Encoding": "identity"])

    /// Request bodies are read as sent: a coded one (gzip, ...) is refused rather than parsed as
    /// JSON, with the codings that are accepted (RFC 9110 15.5.16).
    static func unsupportedContentEncoding(_ coding: String) -> APIError {
        APIError(status: 415, message: "request bodies with Content-Encoding '\(coding)' are not accepted; send the JSON uncompressed",
                 type: "invalid_request_error", code: "unsupported_content_encoding", headers: ["Accept-Encoding": "identity"])
    }

    static let queueFull = APIError(
        status: .tooManyRequests, message: "the server is at capacity; retry later", type: "rate_limit_error",
        code: "queue_full", retryAfter: 1)

    /// 401 for a request without a valid `Authorization: Bearer <key>` (OpenAI's shape and code).
    static func invalidAPIKey(presented: Bool) -> APIError {
        APIError(status: 401,
                 message: presented ? "Incorrect API key provided." : "Missing API key: send it as 'Authorization: Bearer <key>'.",
                 type: "invalid_request_error", code: "invalid_api_key", headers: ["WWW-Authenticate": "Bearer"])
    }

    static func originNotAllowed(_ origin: String?) -> APIError {
        APIError(status: 403, message: origin.map { "the origin '\($0)' may not call this API (see --cors-origins)" }
                     ?? "a CORS preflight needs an Origin header",
                 type: "invalid_request_error", code: "origin_not_allowed")
    }

    static let draining = APIError(
        status: .serviceUnavailable, message: "the server is shutting down", type: "server_error", code: "draining", retryAfter: 5)

    static func internalError(_ message: String) -> APIError {
        APIError(status: .internalServerError, message: message, type: "server_error", code: "internal_error")
    }

    var object: JSON {
        .object([("error", .object([
            ("message", .string(message)), ("type", .string(type)),
            ("param", param.map(JSON.string) ?? .null), ("code", code.map(JSON.string) ?? .null),
        ]))])
    }

    var responseHeaders: HTTPHeaders {
        var h = headers
        h.add(name: "Content-Type", value: "application/json")
        if let retryAfter { h.add(name: "Retry-After", value: String(retryAfter)) }
        return h
    }
}
