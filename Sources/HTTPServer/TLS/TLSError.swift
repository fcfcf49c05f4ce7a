import COpenSSL

/// Why TLS could not be set up at start, in words an operator can act on.
public struct TLSSetupError: Error, CustomStringConvertible, Equatable {
    public let description: String

    init(_ description: String) { self.description = description }

    /// `message` followed by OpenSSL's own reason, which names the real problem (a PEM that
    /// is a key, not a certificate; a key for another certificate, ...).
    static func openSSL(_ message: String) -> TLSSetupError {
        let reasons = drainOpenSSLErrors()
        return TLSSetupError(reasons.isEmpty ? message : "\(message): \(reasons.joined(separator: "; "))")
    }
}

/// Takes OpenSSL's per-thread error queue, oldest first, leaving it empty.
func drainOpenSSLErrors() -> [String] {
    var reasons: [String] = []
    while true {
        let code = ERR_get_error()
        if code == 0 { return reasons }
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &text, text.count)
        reasons.append(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}
