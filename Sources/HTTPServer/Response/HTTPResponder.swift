import Locking

/// Called on the loop thread for each complete request. It must not block: answer at once, or
/// keep the responder and answer later from any thread.
public typealias HTTPHandler = @Sendable (HTTPRequest, HTTPResponder) -> Void

/// Answers one request, from any thread, exactly once: either `respond`, or `startStream`
/// followed by any number of `write` and one `finish`.
///
/// Each call serialises its bytes on the calling thread and posts them to the event loop, so
/// the loop only copies bytes into the socket. Calls in the wrong order, or after the client
/// has gone, do nothing and return false.
public final class HTTPResponder: Sendable {
    private enum Phase {
        case fresh
        case streaming(ResponseFraming, ResponseEnd)
        case done
    }

    private struct State {
        var phase: Phase = .fresh
        var cancelled = false
        var onCancel: (@Sendable () -> Void)?
    }

    public let isHeadRequest: Bool
    public let requestVersion: HTTPVersion
    private let keepAliveRequested: Bool
    private let mailbox: LoopMailbox
    private let connection: ConnectionRef
    private let sequence: UInt64
    private let compression: ResponseCompression?
    /// The request's headers, kept only when compression is on (Accept-Encoding is looked up
    /// only for a body that could be compressed, so small answers pay nothing for it).
    private let requestHeaders: HTTPHeaders
    private let state = Locked(State())

    init(
        connection: ConnectionRef, sequence: UInt64, mailbox: LoopMailbox,
        head: HTTPRequestHead, compression: ResponseCompression? = nil
    ) {
        self.connection = connection
        self.sequence = sequence
        self.mailbox = mailbox
        self.compression = compression
        self.requestHeaders = compression == nil ? HTTPHeaders() : head.headers
        self.isHeadRequest = head.method == "HEAD"
        self.requestVersion = head.version
        self.keepAliveRequested = head.keepAlive
    }

    /// True once the client disconnected before the response was finished.
    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Registers the function to call (on the loop thread; keep it short) when the client
    /// disconnects before the response is finished. Runs at once if that already happened.
    public func onCancel(_ callback: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { s -> Bool in
            if s.cancelled { return true }
            // Answered already: it can no longer be cancelled, and keeping the callback would
            // keep what it captures (often this responder's owner) alive in a cycle.
            if case .done = s.phase { return false }
            s.onCancel = callback
            return false
        }
        if runNow { callback() }
    }

    /// A complete response with a Content-Length body, gzip-encoded when the server's gzip is
    /// on and the request accepts it (see `ResponseCompression`).
    @discardableResult
    public func respond(status: HTTPStatus, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) -> Bool {
        var headers = headers
        var body = body
        // Outside the lock: the loop thread takes it to cancel, and must not wait on deflate.
        // HEAD too, since its headers (Content-Encoding, Content-Length) must be GET's.
        compression?.apply(status: status, requestHeaders: requestHeaders, headers: &headers, body: &body)
        return state.withLock { s in
            guard !s.cancelled, case .fresh = s.phase else { return false }
            s.phase = .done
            s.onCancel = nil  // see onCancel: done responses drop the callback and its captures
            let keepAlive = wantsKeepAlive
            let bytes = ResponseWriter.full(
                status: status, headers: headers, body: body, isHead: isHeadRequest,
                keepAlive: keepAlive, requestVersion: requestVersion)
            return post(bytes, end: keepAlive ? .keepAlive : .close, streamed: false)
        }
    }

    @discardableResult
    public func respond(status: HTTPStatus, headers: HTTPHeaders = HTTPHeaders(), body: String) -> Bool {
        respond(status: status, headers: headers, body: Array(body.utf8))
    }

    /// An OpenAI-style JSON error (see `JSONError`), with Retry-After when given.
    @discardableResult
    public func respondError(
        status: HTTPStatus, message: String, type: String? = nil, code: String? = nil,
        retryAfter seconds: Int? = nil
    ) -> Bool {
        let kind = JSONError.kind(for: status)
        return respond(
            status: status, headers: JSONError.headers(retryAfter: seconds),
            body: JSONError.body(message: message, type: type ?? kind.type, code: code ?? kind.code))
    }

    /// Sends the head of a streamed response: chunked for HTTP/1.1, close-delimited for 1.0.
    /// Never gzip-encoded, so that each piece leaves as soon as it is written.
    @discardableResult
    public func startStream(status: HTTPStatus, headers: HTTPHeaders = HTTPHeaders()) -> Bool {
        state.withLock { s in
            guard !s.cancelled, case .fresh = s.phase else { return false }
            let closeDelimited = requestVersion == .http1_0
            let framing: ResponseFraming = !status.mayHaveBody ? .none : closeDelimited ? .closeDelimited : .chunked
            let end: ResponseEnd = !closeDelimited && wantsKeepAlive ? .keepAlive : .close
            s.phase = .streaming(framing, end)
            var bytes: [UInt8] = []
            ResponseWriter.appendHead(
                status: status, headers: headers, framing: framing, keepAlive: end == .keepAlive,
                requestVersion: requestVersion, to: &bytes)
            return post(bytes, end: nil, streamed: true)
        }
    }

    /// One piece of a streamed body; empty pieces are skipped.
    @discardableResult
    public func write(_ piece: [UInt8]) -> Bool {
        state.withLock { s in
            guard !s.cancelled, case .streaming(let framing, _) = s.phase else { return false }
            if piece.isEmpty || isHeadRequest { return true }
            switch framing {
            case .chunked: return post(ChunkedEncoder.encode(piece), end: nil, streamed: true)
            case .closeDelimited: return post(piece, end: nil, streamed: true)
            case .contentLength, .none: return true
            }
        }
    }

    @discardableResult
    public func write(_ piece: String) -> Bool { write(Array(piece.utf8)) }

    /// Ends a streamed response.
    @discardableResult
    public func finish() -> Bool {
        state.withLock { s in
            guard !s.cancelled, case .streaming(let framing, let end) = s.phase else { return false }
            s.phase = .done
            s.onCancel = nil
            let tail = framing == .chunked && !isHeadRequest ? ChunkedEncoder.terminator : []
            return post(tail, end: end, streamed: true)
        }
    }

    /// Called by the loop when the connection closes with this response unfinished.
    func connectionLost() {
        let callback = state.withLock { s -> (@Sendable () -> Void)? in
            if s.cancelled { return nil }
            s.cancelled = true
            defer { s.onCancel = nil }
            if case .done = s.phase { return nil }
            return s.onCancel
        }
        callback?()
    }

    private var wantsKeepAlive: Bool {
        keepAliveRequested && !mailbox.draining.load(ordering: .relaxed)
    }

    /// Posting under the responder's lock keeps pieces in call order even when several threads
    /// write to the same responder.
    private func post(_ bytes: [UInt8], end: ResponseEnd?, streamed: Bool) -> Bool {
        mailbox.post(.output(connection, sequence: sequence, bytes: bytes, end: end, streamed: streamed))
    }
}
