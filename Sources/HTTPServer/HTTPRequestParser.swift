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

    /// Gathers bytes into `line` until a CRLF ends it, then handles the line. Returns the index
    /// after the last byte consumed. Only CRLF ends a line: a bare CR or bare LF is refused, as
    /// parsers that disagree on line ends are how request smuggling starts.
    private mutating func consumeLine(
        _ input: UnsafeBufferPointer<UInt8>, from start: Int, _ onEvent: (Event) -> Void
    ) throws(HTTPParseError) -> Int {
        var j = start
        while j < input.count {
            let byte = input[j]
            if sawCR {
                guard byte == ASCII.lf else { throw .badRequest("bare CR in message head") }
                sawCR = false
                try lineComplete(onEvent)
                line.removeAll(keepingCapacity: true)
                return j + 1
            }
            switch byte {
            case ASCII.cr:
                sawCR = true
                j += 1
            case ASCII.lf:
                throw .badRequest("bare LF in message head")
            case 0:
                throw .badRequest("NUL byte in message head")
            default:
                var k = j + 1
                while k < input.count {
                    let b = input[k]
                    if b == ASCII.cr || b == ASCII.lf || b == 0 { break }
                    k += 1
                }
                try checkLineLength(adding: k - j)
                line.append(contentsOf: UnsafeBufferPointer(rebasing: input[j..<k]))
                j = k
            }
        }
        return j
    }

    /// Refuses a line before buffering it once it would pass its limit, so memory held for a
    /// line never exceeds the limit plus one read.
    private func checkLineLength(adding count: Int) throws(HTTPParseError) {
        let length = line.count + count
        switch state {
        case .requestLine:
            if length > limits.maxRequestLineLength {
                throw HTTPParseError(status: .uriTooLong, reason: "request line longer than \(limits.maxRequestLineLength) bytes")
            }
        case .headerLines, .trailers:
            if headerBytes + length + 2 > limits.maxHeaderBytes {
                throw HTTPParseError(status: .headersTooLarge, reason: "header section larger than \(limits.maxHeaderBytes) bytes")
            }
        case .chunkSize:
            if length > limits.maxChunkLineLength { throw .badRequest("chunk size line too long") }
        case .chunkDataEnd:
            throw .badRequest("chunk data longer than its declared size")
        default:
            break
        }
    }

    private mutating func lineComplete(_ onEvent: (Event) -> Void) throws(HTTPParseError) {
        switch state {
        case .requestLine:
            if line.isEmpty {
                // RFC 9112 2.2: ignore at least one empty line before a request line
                // (some clients send a CRLF after a POST body); a flood of them is refused.
                emptyLinesSkipped += 1
                if emptyLinesSkipped > 8 { throw .badRequest("too many empty lines before request") }
                return
            }
            try parseRequestLine()
            state = .headerLines
        case .headerLines:
            if line.isEmpty {
                try finishHead(onEvent)
            } else {
                try addHeaderLine(isTrailer: false)
            }
        case .chunkSize:
            try parseChunkSizeLine()
        case .chunkDataEnd:
            state = .chunkSize
        case .trailers:
            if line.isEmpty {
                state = .complete
                onEvent(.end)
            } else {
                try addHeaderLine(isTrailer: true)
            }
        default:
            preconditionFailure("lineComplete outside a line state")
        }
    }
}

enum ASCII {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B

    /// tchar from RFC 9110 5.6.2: the bytes allowed in methods and field names.
    static let isTokenChar: [Bool] = (0..<256).map { b in
        switch UInt8(b) {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(UInt8(b))
        }
    }

    static func hexValue(_ b: UInt8) -> Int? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(b - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}
