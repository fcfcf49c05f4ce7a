/// How a response body is delimited on the wire.
enum ResponseFraming: Equatable {
    case contentLength(Int)
    case chunked
    /// HTTP/1.0 clients cannot read chunked: a stream to them ends when the connection closes.
    case closeDelimited
    /// 1xx / 204 / 304: no body and no length.
    case none
}

/// Serialises status line and headers. Framing and connection headers are owned here, so a
/// handler cannot send a Content-Length that disagrees with the bytes that follow.
enum ResponseWriter {
    static let managedHeaders = ["Content-Length", "Transfer-Encoding", "Connection"]

    static func appendHead(
        status: HTTPStatus, headers: HTTPHeaders, framing: ResponseFraming,
        keepAlive: Bool, requestVersion: HTTPVersion, to out: inout [UInt8]
    ) {
        out.append(contentsOf: "HTTP/1.1 ".utf8)
        out.append(contentsOf: String(status.code).utf8)
        out.append(ASCII.space)
        out.append(contentsOf: status.reasonPhrase.utf8)
        out.append(contentsOf: "\r\n".utf8)
        if !headers.contains("Date") {
            out.append(contentsOf: "Date: ".utf8)
            out.append(contentsOf: HTTPDate.now())
            out.append(contentsOf: "\r\n".utf8)
        }
        for field in headers where isSafe(field) {
            if managedHeaders.contains(where: { asciiCaseInsensitiveEquals($0, field.name) }) { continue }
            appendField(field.name, field.value, to: &out)
        }
        switch framing {
        case .contentLength(let n): appendField("Content-Length", String(n), to: &out)
        case .chunked: appendField("Transfer-Encoding", "chunked", to: &out)
        case .closeDelimited, .none: break
        }
        if !keepAlive {
            appendField("Connection", "close", to: &out)
        } else if requestVersion == .http1_0 {
            appendField("Connection", "keep-alive", to: &out)
        }
        out.append(contentsOf: "\r\n".utf8)
    }

    /// A whole response. HEAD gets the same headers as GET would, and no body.
    static func full(
        status: HTTPStatus, headers: HTTPHeaders, body: [UInt8], isHead: Bool,
        keepAlive: Bool, requestVersion: HTTPVersion
    ) -> [UInt8] {
        var out: [UInt8] = []
        let sendsBody = status.mayHaveBody && !isHead
        out.reserveCapacity(128 + headers.count * 32 + (sendsBody ? body.count : 0))
        appendHead(
            status: status, headers: headers,
            framing: status.mayHaveBody ? .contentLength(body.count) : .none,
            keepAlive: keepAlive, requestVersion: requestVersion, to: &out)
        if sendsBody { out.append(contentsOf: body) }
        return out
    }

    /// The JSON error response the server sends on its own (parse errors, timeouts, overload),
    /// always followed by closing the connection.
    static func error(_ status: HTTPStatus, message: String, retryAfter: Int? = nil) -> [UInt8] {
        let kind = JSONError.kind(for: status)
        return full(
            status: status, headers: JSONError.headers(retryAfter: retryAfter),
            body: JSONError.body(message: message, type: kind.type, code: kind.code),
            isHead: false, keepAlive: false, requestVersion: .http1_1)
    }

    static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    private static func appendField(_ name: String, _ value: String, to out: inout [UInt8]) {
        out.append(contentsOf: name.utf8)
        out.append(contentsOf: ": ".utf8)
        out.append(contentsOf: value.utf8)
        out.append(contentsOf: "\r\n".utf8)
    }

    /// Drops fields that would split the response (CR/LF/NUL in a value, a non-token name).
    private static func isSafe(_ field: HTTPHeaders.Field) -> Bool {
        !field.name.isEmpty
            && field.name.utf8.allSatisfy { ASCII.isTokenChar[Int($0)] }
            && !field.value.utf8.contains { $0 == ASCII.cr || $0 == ASCII.lf || $0 == 0 }
    }
}
