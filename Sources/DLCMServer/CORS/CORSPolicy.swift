import HTTPServer

/// Which browser origins may call the API (`--cors-origins`). Off by default: no CORS header is
/// ever sent, and OPTIONS is 405 like any other method a route does not take.
///
/// With `*`, every origin is allowed and answered `Access-Control-Allow-Origin: *` (keys travel
/// in `Authorization`, not cookies, so no credentials mode is needed). With a list, an allowed
/// origin is echoed back with `Vary: Origin`, so caches keep answers per origin apart.
public enum CORSPolicy: Sendable, Equatable {
    case off
    case anyOrigin
    case origins(Set<String>)

    /// Request headers a browser may send cross-origin.
    static let allowedHeaders = "Authorization, Content-Type, X-Request-Id"
    /// Response headers beyond the CORS-safelisted ones that scripts may read.
    static let exposedHeaders = "X-Request-Id"
    /// How long (seconds) a browser may cache a preflight answer.
    static let maxAge = 600

    /// Parses `*` or a comma-separated list of origins (`https://app.example.com`). Empty = off.
    public init(_ text: String?) throws {
        let items = (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if items.isEmpty {
            self = .off
        } else if items == ["*"] {
            self = .anyOrigin
        } else {
            if let bad = items.first(where: { !Self.isOrigin($0) }) {
                throw ConfigurationError("CORS origin '\(bad)' is not * or scheme://host[:port] (e.g. https://app.example.com)")
            }
            self = .origins(Set(items))
        }
    }

    public var isEnabled: Bool { self != .off }

    func allows(_ origin: String) -> Bool {
        switch self {
        case .off: false
        case .anyOrigin: true
        case .origins(let set): set.contains(origin)
        }
    }

    /// The headers every response to an allowed origin carries; none for other origins.
    func responseHeaders(origin: String?) -> HTTPHeaders {
        var h = HTTPHeaders()
        if case .origins = self { h.add(name: "Vary", value: "Origin") }
        guard let origin, allows(origin) else { return h }
        h.add(name: "Access-Control-Allow-Origin", value: self == .anyOrigin ? "*" : origin)
        h.add(name: "Access-Control-Expose-Headers", value: Self.exposedHeaders)
        return h
    }

    /// The extra headers of a preflight answer for a route taking `methods`.
    func preflightHeaders(methods: [String]) -> HTTPHeaders {
        [
            "Access-Control-Allow-Methods": (methods + ["OPTIONS"]).joined(separator: ", "),
            "Access-Control-Allow-Headers": Self.allowedHeaders,
            "Access-Control-Max-Age": String(Self.maxAge),
        ]
    }

    /// An origin as browsers send it: scheme "://" host, optional port, no path.
    static func isOrigin(_ s: String) -> Bool {
        guard let sep = s.range(of: "://") else { return false }
        let scheme = s[..<sep.lowerBound], rest = s[sep.upperBound...]
        return !scheme.isEmpty && scheme.allSatisfy { $0.isLetter || $0.isNumber || "+-.".contains($0) }
            && !rest.isEmpty && !rest.contains("/") && rest.allSatisfy { $0.isASCII && !$0.isWhitespace }
    }
}
