/// Line framing for the head, chunk-size lines and trailers: CRLF only, with limits checked
/// before bytes are buffered.
extension HTTPRequestParser {
    /// Gathers bytes into `line` until a CRLF ends it, then handles the line. Returns the index
    /// after the last byte consumed. Only CRLF ends a line: a bare CR or bare LF is refused, as
    /// parsers that disagree on line ends are how request smuggling starts.
    mutating func consumeLine(
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
