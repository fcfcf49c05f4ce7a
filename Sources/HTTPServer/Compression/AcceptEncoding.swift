/// Content negotiation for gzip vs identity from Accept-Encoding (RFC 9110 12.5.3).
enum AcceptEncoding {
    /// Whether to send gzip rather than identity. gzip needs a positive q-value, from its own
    /// entry (or `x-gzip`), else from `*`; an explicit `gzip;q=0` refuses it whatever `*`
    /// says. Identity is always the fallback; it wins only when the client rates it above gzip
    /// (`gzip;q=0.5, identity`), since an unlisted identity is acceptable but not preferred.
    /// No Accept-Encoding at all means identity: gzip goes only to clients that ask for it.
    static func prefersGzip(_ values: [String]) -> Bool {
        var gzip: Double?
        var identity: Double?
        var star: Double?
        for value in values {
            for element in value.split(separator: ",") {
                var parts = element.split(separator: ";").makeIterator()
                guard let name = parts.next()?.trimmingOWS(), !name.isEmpty else { continue }
                var q = 1.0
                while let parameter = parts.next() {
                    let pair = parameter.split(separator: "=", maxSplits: 1)
                    guard pair.count == 2, asciiCaseInsensitiveEquals(pair[0].trimmingOWS(), "q") else { continue }
                    // A malformed q-value refuses the coding: identity is always a safe answer.
                    q = qValue(pair[1].trimmingOWS()) ?? 0
                }
                if asciiCaseInsensitiveEquals(name, "gzip") || asciiCaseInsensitiveEquals(name, "x-gzip") {
                    gzip = max(gzip ?? 0, q)
                } else if asciiCaseInsensitiveEquals(name, "identity") {
                    identity = q
                } else if name == "*" {
                    star = q
                }
            }
        }
        let gzipQ = gzip ?? star ?? 0
        let identityQ = identity ?? star ?? 0
        return gzipQ > 0 && gzipQ >= identityQ
    }

    /// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`; nil when malformed.
    static func qValue(_ text: Substring) -> Double? {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, first == UInt8(ascii: "0") || first == UInt8(ascii: "1") else { return nil }
        if bytes.count == 1 { return Double(first - UInt8(ascii: "0")) }
        guard bytes[1] == UInt8(ascii: "."), bytes.count <= 5 else { return nil }
        var value = Double(first - UInt8(ascii: "0"))
        var scale = 0.1
        for digit in bytes[2...] {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            value += Double(digit - UInt8(ascii: "0")) * scale
            scale /= 10
        }
        return value <= 1 ? value : nil
    }
}
