import StrictJSON

/// OpenAI-style error bodies: `{"error":{"message":…,"type":…,"param":null,"code":…}}`.
/// Lives here so that errors the HTTP layer raises itself (400, 408, 413, 431, 503, …) have the
/// same shape as the ones the application sends.
public enum JSONError {
    public static func body(message: String, type: String, code: String?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + message.utf8.count)
        out.append(contentsOf: #"{"error":{"message":"#.utf8)
        JSON.writeString(message, to: &out)
        out.append(contentsOf: #","type":"#.utf8)
        JSON.writeString(type, to: &out)
        out.append(contentsOf: #","param":null,"code":"#.utf8)
        if let code { JSON.writeString(code, to: &out) } else { out.append(contentsOf: "null".utf8) }
        out.append(contentsOf: "}}".utf8)
        return out
    }

    /// The error type and code the HTTP layer uses for a status it produces itself.
    public static func kind(for status: HTTPStatus) -> (type: String, code: String?) {
        switch status.code {
        case 408: ("invalid_request_error", "request_timeout")
        case 413: ("invalid_request_error", "request_too_large")
        case 414: ("invalid_request_error", "uri_too_long")
        case 431: ("invalid_request_error", "headers_too_large")
        case 429: ("rate_limit_error", "rate_limit_exceeded")
        case 501: ("invalid_request_error", "not_implemented")
        case 505: ("invalid_request_error", "http_version_not_supported")
        case 503: ("server_error", "server_overloaded")
        case 500...: ("server_error", nil)
        default: ("invalid_request_error", nil)
        }
    }

    /// Headers for an error response: JSON content type, plus Retry-After (seconds) when given.
    public static func headers(retryAfter seconds: Int? = nil) -> HTTPHeaders {
        var h: HTTPHeaders = ["Content-Type": "application/json"]
        if let seconds { h.add(name: "Retry-After", value: String(seconds)) }
        return h
    }
}
