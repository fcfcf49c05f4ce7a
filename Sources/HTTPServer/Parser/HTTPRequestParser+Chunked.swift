/// The chunked transfer coding (RFC 9112 7.1): size lines, extensions, trailers.
extension HTTPRequestParser {
    /// chunk-size [ BWS ";" chunk-ext ] — extensions are checked for stray bytes and ignored.
    mutating func parseChunkSizeLine() throws(HTTPParseError) {
        var index = 0
        var size = 0
        while index < line.count, let digit = ASCII.hexValue(line[index]) {
            // Refuse before shifting: a wrapped size is the classic chunked smuggling vector.
            if size > (Int.max >> 4) { throw .badRequest("chunk size overflows") }
            size = size << 4 | digit
            index += 1
        }
        guard index > 0 else { throw .badRequest("invalid chunk size") }
        while index < line.count, line[index] == ASCII.space || line[index] == ASCII.tab { index += 1 }
        if index < line.count {
            guard line[index] == ASCII.semicolon else { throw .badRequest("invalid chunk size") }
            let extensions = line[(index + 1)...]
            guard extensions.allSatisfy({ $0 == ASCII.tab || ($0 >= 0x20 && $0 != 0x7F) }) else {
                throw .badRequest("invalid byte in chunk extension")
            }
        }
        if size == 0 {
            // Trailers get their own header budget.
            headerBytes = 0
            headerCount = 0
            state = .trailers
            return
        }
        if size > limits.maxBodyBytes - bodyBytes {
            throw HTTPParseError(status: .payloadTooLarge, reason: "chunked body exceeds \(limits.maxBodyBytes) bytes")
        }
        bodyBytes += size
        state = .chunkData(remaining: size)
    }
}
