/// An answer a handler gives from the request head alone, at once, on the loop thread: the loop
/// writes it straight into the connection's output, with no responder and no hop through the
/// mailbox. For the requests that come by the hundred thousand a second and must cost next to
/// nothing (liveness and readiness probes); anything else goes to the `HTTPHandler`.
///
/// The loop hands the handler one answer to fill and reuses its buffers for the next request, so
/// a quick answer allocates nothing.
public struct QuickAnswer: Sendable {
    public var status: HTTPStatus = .ok
    /// Header lines, each `Name: value\r\n`, as the handler vouches for them (no CR, LF or NUL in
    /// a value; a token for a name); the server adds Date, Content-Length and Connection.
    public var headerLines: [UInt8] = []
    public var body: [UInt8] = []

    public init() {}

    public init(status: HTTPStatus, headerLines: [UInt8], body: [UInt8]) {
        self.status = status
        self.headerLines = headerLines
        self.body = body
    }

    /// Empties it for the next request, keeping the buffers.
    mutating func clear() {
        status = .ok
        headerLines.removeAll(keepingCapacity: true)
        body.removeAll(keepingCapacity: true)
    }
}

/// Fills in the answer to a complete request without a body and returns true, or returns false
/// to have the `HTTPHandler` take it. Runs on the loop thread for every such request: it must be
/// quick and must not block.
public typealias QuickHandler = @Sendable (HTTPRequestHead, inout QuickAnswer) -> Bool

extension ResponseWriter {
    /// A quick answer as it goes on the wire: the same head `full` writes for the same status,
    /// headers and body (HEAD: the headers alone).
    /// - Parameter dateLine: `Date: <now>\r\n`.
    static func appendQuick(_ answer: QuickAnswer, dateLine: [UInt8], isHead: Bool, keepAlive: Bool, requestVersion: HTTPVersion,
                            to out: inout [UInt8]) {
        out.reserveCapacity(out.count + 128 + answer.headerLines.count + answer.body.count)
        out.append(contentsOf: statusLine(answer.status))
        out.append(contentsOf: dateLine)
        out.append(contentsOf: answer.headerLines)
        if answer.status.mayHaveBody {
            out.append(contentsOf: "Content-Length: ".utf8)
            out.append(contentsOf: String(answer.body.count).utf8)
            out.append(contentsOf: "\r\n".utf8)
        }
        if !keepAlive {
            out.append(contentsOf: "Connection: close\r\n".utf8)
        } else if requestVersion == .http1_0 {
            out.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        out.append(contentsOf: "\r\n".utf8)
        if answer.status.mayHaveBody && !isHead { out.append(contentsOf: answer.body) }
    }

    /// `HTTP/1.1 <code> <reason>\r\n`; the probes' two made once.
    static func statusLine(_ status: HTTPStatus) -> [UInt8] {
        switch status.code {
        case 200 where status.reasonPhrase == "OK": okLine
        case 503 where status.reasonPhrase == HTTPStatus.serviceUnavailable.reasonPhrase: unavailableLine
        default: makeStatusLine(status)
        }
    }

    private static let okLine = makeStatusLine(.ok)
    private static let unavailableLine = makeStatusLine(.serviceUnavailable)

    private static func makeStatusLine(_ status: HTTPStatus) -> [UInt8] {
        var line: [UInt8] = []
        line.reserveCapacity(40)
        line.append(contentsOf: "HTTP/1.1 ".utf8)
        line.append(contentsOf: String(status.code).utf8)
        line.append(ASCII.space)
        line.append(contentsOf: status.reasonPhrase.utf8)
        line.append(contentsOf: "\r\n".utf8)
        return line
    }
}
