/// An incremental HTTP/1.x request parser: pure, no I/O, fed arbitrary byte slices.
///
/// `parse` consumes bytes up to the end of one message and then stops, returning how many it
/// used; the caller keeps the rest (a pipelined next request) and calls `reset()` once the
/// response is done. The head is gathered line by line into a small buffer; body bytes are
/// passed straight through from the input, never copied here. Every split of the same input
/// yields the same events (up to how the body is cut into pieces).
public struct HTTPRequestParser: Sendable {
    public enum Event {
        case head(HTTPRequestHead)
        /// Body bytes, valid only during the callback.
        case body(UnsafeBufferPointer<UInt8>)
        case end
    }

    /// Where the parser stands, for the connection's timeouts.
    public enum Phase: Equatable, Sendable {
        case idle       // no byte of the next request yet
        case head       // inside the request line or header section
        case body
        case complete   // a whole message parsed; waiting for reset()
        case failed
    }

    enum State: Sendable {
        case requestLine
        case headerLines
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd   // the CRLF that must follow chunk data
        case trailers
        case complete
        case failed(HTTPParseError)
    }

    public let limits: HTTPLimits
    var state: State = .requestLine
    /// The line being gathered (request line, header, chunk size or trailer), without CRLF.
    var line: [UInt8] = []
    var sawCR = false
    var started = false
    var emptyLinesSkipped = 0
    var method = ""
    var target = ""
    var version = HTTPVersion.http1_1
    var headers = HTTPHeaders()
    var headerBytes = 0
    var headerCount = 0
    var bodyBytes = 0

    public init(limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits
        line.reserveCapacity(256)
    }

    public var phase: Phase {
        switch state {
        case .requestLine: started ? .head : .idle
        case .headerLines: .head
        case .fixedBody, .chunkSize, .chunkData, .chunkDataEnd, .trailers: .body
        case .complete: .complete
        case .failed: .failed
        }
    }

    /// Forgets the finished message so the next one can be parsed.
    public mutating func reset() {
        self = HTTPRequestParser(reusing: self)
    }

    private init(reusing old: HTTPRequestParser) {
        self.limits = old.limits
        self.line = old.line
        self.line.removeAll(keepingCapacity: true)
    }

    /// Parses as much of `input` as belongs to the current message, calling `onEvent` for each
    /// event, and returns the number of bytes consumed. After `.end` it consumes nothing more.
    public mutating func parse(
        _ input: UnsafeBufferPointer<UInt8>, _ onEvent: (Event) -> Void
    ) throws(HTTPParseError) -> Int {
        if case .failed(let error) = state { throw error }
        do throws(HTTPParseError) {
            var i = 0
            while i < input.count {
                switch state {
                case .complete:
                    return i
                case .failed(let error):
                    throw error
                case .fixedBody(let remaining):
                    let take = min(remaining, input.count - i)
                    onEvent(.body(UnsafeBufferPointer(rebasing: input[i..<(i + take)])))
                    i += take
                    if take == remaining {
                        state = .complete
                        onEvent(.end)
                    } else {
                        state = .fixedBody(remaining: remaining - take)
                    }
                case .chunkData(let remaining):
                    let take = min(remaining, input.count - i)
                    onEvent(.body(UnsafeBufferPointer(rebasing: input[i..<(i + take)])))
                    i += take
                    state = take == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - take)
                case .requestLine, .headerLines, .chunkSize, .chunkDataEnd, .trailers:
                    started = true
                    i = try consumeLine(input, from: i, onEvent)
                }
            }
            return i
        } catch {
            state = .failed(error)
            throw error
        }
    }
}
