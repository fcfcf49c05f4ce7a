/// Size limits the parser enforces; each maps to the status the RFCs name for it.
public struct HTTPLimits: Sendable, Equatable {
    /// Longest request line (method, target, version), excluding CRLF. Over it: 414.
    public var maxRequestLineLength: Int
    /// Total bytes of header lines (and of trailer lines), CRLFs included. Over it: 431.
    public var maxHeaderBytes: Int
    /// Most header fields (trailers count too). Over it: 431.
    public var maxHeaderCount: Int
    /// Largest request body, by Content-Length or summed chunks. Over it: 413.
    public var maxBodyBytes: Int
    /// Longest chunk-size line, extensions included; a longer one is treated as an attack: 400.
    public var maxChunkLineLength: Int

    public init(
        maxRequestLineLength: Int = 8 * 1024,
        maxHeaderBytes: Int = 32 * 1024,
        maxHeaderCount: Int = 100,
        maxBodyBytes: Int = 8 * 1024 * 1024,
        maxChunkLineLength: Int = 1024
    ) {
        self.maxRequestLineLength = maxRequestLineLength
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
        self.maxChunkLineLength = maxChunkLineLength
    }
}

/// How long a connection may spend in each phase before it is closed.
public struct HTTPTimeouts: Sendable, Equatable {
    /// From a request's first byte (or the connection's accept) to the end of its head: total,
    /// not per read, so a client dripping one byte a second cannot hold the slot (slowloris).
    public var header: Duration
    /// Longest gap between body bytes; refreshed by progress, since large uploads are legitimate.
    public var body: Duration
    /// Keep-alive wait between a finished response and the next request's first byte.
    public var idle: Duration
    /// Longest time queued output may make no progress (a client that stopped reading).
    public var writeStall: Duration
    /// After the last response on a closing connection: how long to drain what the client still
    /// sends, so that closing with unread input does not reset the connection under the response.
    public var linger: Duration
    /// From accept to a finished TLS handshake (TLS only). Total, like `header`: a client that
    /// stalls mid-handshake holds its slot no longer than this. The header deadline starts after.
    public var tlsHandshake: Duration
    /// A request is in flight, its client has shut down its sending side, and no byte of the
    /// response has gone out after this long: send an interim `100 Continue`. A client that only
    /// half-closed skips it and reads on; a socket closed for good answers it with a reset, which
    /// cancels the request. Checked by the sweep, so it fires up to a sweep interval late.
    public var halfCloseProbe: Duration

    public init(
        header: Duration = .seconds(10),
        body: Duration = .seconds(30),
        idle: Duration = .seconds(5),
        writeStall: Duration = .seconds(30),
        linger: Duration = .seconds(1),
        tlsHandshake: Duration = .seconds(10),
        halfCloseProbe: Duration = .milliseconds(100)
    ) {
        self.header = header
        self.body = body
        self.idle = idle
        self.writeStall = writeStall
        self.linger = linger
        self.tlsHandshake = tlsHandshake
        self.halfCloseProbe = halfCloseProbe
    }
}

/// HTTPS: where the PEM files are. Both are read once, at `Server.start()`.
public struct TLSConfiguration: Sendable, Equatable {
    /// The certificate chain, leaf first (what `openssl req -x509 -out` writes, or fullchain.pem).
    public var certificateChainPath: String
    /// The leaf certificate's private key, unencrypted PEM (PKCS#8 or traditional).
    public var privateKeyPath: String

    public init(certificateChainPath: String, privateKeyPath: String) {
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
    }
}

public struct ServerConfiguration: Sendable {
    public var host: String
    /// 0 lets the kernel choose; `Server.port` then reports it.
    public var port: Int
    public var backlog: Int32
    public var limits: HTTPLimits
    public var timeouts: HTTPTimeouts
    /// Connections beyond this are answered 503 and closed at accept.
    public var maxConnections: Int
    /// Streamed output queued for one connection beyond this closes it (and cancels the
    /// request): a client that does not read must not grow server memory without bound.
    public var maxOutputBufferBytes: Int
    /// Bytes read per read(2); also bounds input buffered while a response is in flight.
    public var readBufferSize: Int
    /// Serve TLS on the listening socket when set; plain HTTP when nil.
    public var tls: TLSConfiguration?
    /// gzip whole (non-streamed) responses when the client accepts it, the body is at least
    /// `gzipMinimumBytes` and its Content-Type is compressible (JSON, text). Streams never are.
    public var gzip: Bool
    /// Smaller bodies go as they are: under about a kilobyte gzip saves little and costs a
    /// deflate setup per response.
    public var gzipMinimumBytes: Int
    /// zlib level, 1 (fastest) to 9 (smallest); 6 is zlib's own default.
    public var gzipLevel: Int

    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        backlog: Int32 = 1024,
        limits: HTTPLimits = HTTPLimits(),
        timeouts: HTTPTimeouts = HTTPTimeouts(),
        maxConnections: Int = 1024,
        maxOutputBufferBytes: Int = 4 * 1024 * 1024,
        readBufferSize: Int = 64 * 1024,
        tls: TLSConfiguration? = nil,
        gzip: Bool = true,
        gzipMinimumBytes: Int = 1024,
        gzipLevel: Int = 6
    ) {
        self.host = host
        self.port = port
        self.backlog = backlog
        self.limits = limits
        self.timeouts = timeouts
        self.maxConnections = maxConnections
        self.maxOutputBufferBytes = maxOutputBufferBytes
        self.readBufferSize = readBufferSize
        self.tls = tls
        self.gzip = gzip
        self.gzipMinimumBytes = gzipMinimumBytes
        self.gzipLevel = gzipLevel
    }
}
