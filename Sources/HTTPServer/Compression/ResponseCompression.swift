/// Decides, per whole response, whether its body goes gzip-encoded, and encodes it.
///
/// Only `HTTPResponder.respond` (a complete body) comes here. Streamed responses (SSE) are
/// never compressed: a deflate stream holds bytes back until it has enough to encode, so
/// tokens would reach the client late, in bursts; flushing after each token would cost more
/// bytes than it saves.
struct ResponseCompression: Sendable {
    let minimumBytes: Int
    let level: Int

    /// Rewrites `headers` and `body` in place when gzip applies. Runs on the thread that
    /// answers (the engine's, usually), never as extra work for the event loop unless the
    /// handler itself answers there.
    func apply(status: HTTPStatus, requestHeaders: HTTPHeaders, headers: inout HTTPHeaders, body: inout [UInt8]) {
        guard status.mayHaveBody, status.code != 206, body.count >= minimumBytes,
              !headers.contains("Content-Encoding"),
              let type = headers["Content-Type"], Self.isCompressible(type) else { return }
        // The representation now depends on Accept-Encoding, whichever way this one goes:
        // a cache must not hand the gzip body to a client that did not ask for it.
        Self.addVary(to: &headers)
        guard AcceptEncoding.prefersGzip(requestHeaders.values(for: "Accept-Encoding")),
              let compressed = Gzip.compress(body, level: level),
              compressed.count < body.count else { return }
        headers.add(name: "Content-Encoding", value: "gzip")
        body = compressed
    }

    /// JSON, text and the structured-syntax relatives; not images, archives or event streams.
    static func isCompressible(_ contentType: String) -> Bool {
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first?.trimmingOWS().lowercased() ?? ""
        if mediaType == "text/event-stream" { return false }
        if mediaType.hasPrefix("text/") { return true }
        guard mediaType.hasPrefix("application/") else { return false }
        let subtype = mediaType.dropFirst("application/".count)
        return ["json", "javascript", "xml", "x-ndjson", "yaml"].contains(subtype)
            || subtype.hasSuffix("+json") || subtype.hasSuffix("+xml")
    }

    /// Adds `Accept-Encoding` to Vary, keeping what the handler put there (CORS adds Origin).
    static func addVary(to headers: inout HTTPHeaders) {
        let existing = headers.values(for: "Vary")
        if existing.isEmpty {
            headers.add(name: "Vary", value: "Accept-Encoding")
            return
        }
        if headers.containsToken("Accept-Encoding", in: "Vary") || headers.containsToken("*", in: "Vary") { return }
        headers.replaceOrAdd(name: "Vary", value: (existing + ["Accept-Encoding"]).joined(separator: ", "))
    }
}
