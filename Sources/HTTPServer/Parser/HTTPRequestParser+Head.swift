/// Request line, header fields, and the framing decision made at the end of the head.
extension HTTPRequestParser {
    mutating func parseRequestLine() throws(HTTPParseError) {
        // method SP request-target SP HTTP-version, single spaces only (RFC 9112 3).
        guard let sp1 = line.firstIndex(of: ASCII.space),
              let sp2 = line[(sp1 + 1)...].firstIndex(of: ASCII.space),
              !line[(sp2 + 1)...].contains(ASCII.space)
        else { throw .badRequest("malformed request line") }
        let methodBytes = line[..<sp1]
        let targetBytes = line[(sp1 + 1)..<sp2]
        let versionBytes = line[(sp2 + 1)...]
        guard !methodBytes.isEmpty, methodBytes.allSatisfy({ ASCII.isTokenChar[Int($0)] }) else {
            throw .badRequest("invalid method")
        }
        // Visible ASCII only: no controls, spaces or raw non-ASCII in the target.
        guard !targetBytes.isEmpty, targetBytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .badRequest("invalid request target")
        }
        version = try Self.parseVersion(versionBytes)
        method = String(decoding: methodBytes, as: UTF8.self)
        target = String(decoding: targetBytes, as: UTF8.self)
        if let origin = try Self.originForm(ofAbsolute: targetBytes) { target = origin }
    }

    /// A target in absolute form (`http://host/path?query`, RFC 9112 3.2.2), which a server
    /// must accept, as the origin form the routes see (`/path?query`); the authority is dropped,
    /// as is Host, since nothing here routes by host. nil for any other form.
    static func originForm(ofAbsolute target: ArraySlice<UInt8>) throws(HTTPParseError) -> String? {
        // The usual origin form settles it without the copy below (this runs per request).
        if target.first == UInt8(ascii: "/") || target.first == UInt8(ascii: "*") { return nil }
        let lower = target.prefix(8).map { $0 | 0x20 }  // ASCII letters to lower case
        let schemeLength: Int
        if lower.starts(with: "http://".utf8) {
            schemeLength = 7
        } else if lower.starts(with: "https://".utf8) {
            schemeLength = 8
        } else {
            return nil
        }
        let rest = target.dropFirst(schemeLength)
        let end = rest.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? rest.endIndex
        guard end > rest.startIndex else { throw .badRequest("absolute request target without a host") }
        let tail = rest[end...]
        if tail.first == UInt8(ascii: "#") { throw .badRequest("invalid request target") }
        return tail.first == UInt8(ascii: "/") ? String(decoding: tail, as: UTF8.self) : "/" + String(decoding: tail, as: UTF8.self)
    }

    /// "HTTP/" DIGIT "." DIGIT; well-formed versions other than 1.0 and 1.1 get 505.
    static func parseVersion(_ bytes: ArraySlice<UInt8>) throws(HTTPParseError) -> HTTPVersion {
        let s = bytes.startIndex   // read in place: a copy here was an allocation per request
        guard bytes.count == 8, bytes[s..<(s + 5)].elementsEqual("HTTP/".utf8), bytes[s + 6] == UInt8(ascii: "."),
              let major = ASCII.decimal(bytes[s + 5]), let minor = ASCII.decimal(bytes[s + 7])
        else { throw .badRequest("malformed HTTP version") }
        guard major == 1, minor <= 1 else {
            throw HTTPParseError(status: .versionNotSupported, reason: "HTTP/\(major).\(minor) is not supported")
        }
        return HTTPVersion(major: major, minor: minor)
    }

    mutating func addHeaderLine(isTrailer: Bool) throws(HTTPParseError) {
        // obs-fold: a continuation line. Refused (RFC 9112 5.2 allows it) because parsers that
        // unfold differently disagree on header values.
        if line[0] == ASCII.space || line[0] == ASCII.tab { throw .badRequest("obsolete line folding") }
        guard let colon = line.firstIndex(of: ASCII.colon) else { throw .badRequest("header line without colon") }
        let name = line[..<colon]
        // Whitespace before the colon is not a token char, so "Name : v" is refused here too.
        guard !name.isEmpty, name.allSatisfy({ ASCII.isTokenChar[Int($0)] }) else {
            throw .badRequest("invalid header name")
        }
        var valueStart = colon + 1
        var valueEnd = line.count
        while valueStart < valueEnd, line[valueStart] == ASCII.space || line[valueStart] == ASCII.tab { valueStart += 1 }
        while valueEnd > valueStart, line[valueEnd - 1] == ASCII.space || line[valueEnd - 1] == ASCII.tab { valueEnd -= 1 }
        let value = line[valueStart..<valueEnd]
        // field-vchar / obs-text / SP / HTAB; other control bytes (and DEL) are refused.
        guard value.allSatisfy({ $0 == ASCII.tab || ($0 >= 0x20 && $0 != 0x7F) }) else {
            throw .badRequest("invalid byte in header value")
        }
        headerCount += 1
        headerBytes += line.count + 2
        if headerCount > limits.maxHeaderCount {
            throw HTTPParseError(status: .headersTooLarge, reason: "more than \(limits.maxHeaderCount) header fields")
        }
        if headerBytes > limits.maxHeaderBytes {
            throw HTTPParseError(status: .headersTooLarge, reason: "header section larger than \(limits.maxHeaderBytes) bytes")
        }
        if !isTrailer {
            headers.add(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
        }
    }

    /// Decides how the body is framed (RFC 9112 6.3), refusing every ambiguous shape.
    mutating func finishHead(_ onEvent: (Event) -> Void) throws(HTTPParseError) {
        // One pass over the fields (every request comes through here): the Host count and the
        // framing headers, collected only when present.
        var hosts = 0
        var transferEncodings: [String] = [], contentLengths: [String] = []
        for field in headers {
            switch field.name.utf8.count {
            case 4 where asciiCaseInsensitiveEquals(field.name, "Host"): hosts += 1
            case 14 where asciiCaseInsensitiveEquals(field.name, "Content-Length"): contentLengths.append(field.value)
            case 17 where asciiCaseInsensitiveEquals(field.name, "Transfer-Encoding"): transferEncodings.append(field.value)
            default: break
            }
        }
        if version == .http1_1 ? hosts != 1 : hosts > 1 {
            throw .badRequest(hosts == 0 ? "missing Host header" : "multiple Host headers")
        }
        if !transferEncodings.isEmpty {
            if !contentLengths.isEmpty { throw .badRequest("both Content-Length and Transfer-Encoding") }
            if version == .http1_0 { throw .badRequest("Transfer-Encoding in an HTTP/1.0 request") }
            let codings = transferEncodings
                .flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
                .map { $0.trimmingOWS() }
                .filter { !$0.isEmpty }
            guard let last = codings.last else { throw .badRequest("empty Transfer-Encoding") }
            // Without chunked last, the body length is unknowable: 400 and close (RFC 9112 6.3).
            guard asciiCaseInsensitiveEquals(last, "chunked") else {
                throw .badRequest("Transfer-Encoding must end with chunked")
            }
            if codings.dropLast().contains(where: { asciiCaseInsensitiveEquals($0, "chunked") }) {
                throw .badRequest("chunked applied more than once")
            }
            if codings.count > 1 {
                throw HTTPParseError(status: .notImplemented, reason: "unsupported transfer coding \(codings[0])")
            }
            state = .chunkSize
        } else if !contentLengths.isEmpty {
            let length = try Self.contentLength(contentLengths)
            if length > limits.maxBodyBytes {
                throw HTTPParseError(status: .payloadTooLarge, reason: "body of \(length) bytes exceeds \(limits.maxBodyBytes)")
            }
            state = length > 0 ? .fixedBody(remaining: length) : .complete
        } else {
            state = .complete
        }
        onEvent(.head(HTTPRequestHead(method: method, target: target, version: version, headers: headers)))
        if case .complete = state { onEvent(.end) }
    }

    /// Every Content-Length value (and list element) must be the same plain decimal number.
    static func contentLength(_ values: [String]) throws(HTTPParseError) -> Int {
        var result: Int?
        for value in values {
            for element in value.split(separator: ",", omittingEmptySubsequences: false) {
                let digits = element.trimmingOWS().utf8
                guard !digits.isEmpty else { throw .badRequest("empty Content-Length") }
                var n = 0
                for d in digits {
                    guard let v = ASCII.decimal(d) else { throw .badRequest("non-numeric Content-Length") }
                    let (times10, o1) = n.multipliedReportingOverflow(by: 10)
                    let (sum, o2) = times10.addingReportingOverflow(v)
                    if o1 || o2 { throw .badRequest("Content-Length overflows") }
                    n = sum
                }
                if let previous = result, previous != n { throw .badRequest("conflicting Content-Length values") }
                result = n
            }
        }
        return result ?? 0
    }
}
