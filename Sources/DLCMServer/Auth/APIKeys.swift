/// The API keys a request may present as `Authorization: Bearer <key>`. An empty set means
/// authentication is off.
///
/// Checking is constant-time in the keys' contents: every configured key is compared, each
/// over the longer of the two lengths, by OR-accumulating XORed bytes, so neither the position
/// of the first differing byte nor which key matched changes the work done. Only the presented
/// key's length shows (the loop runs that long), which the client knows anyway.
public struct APIKeys: Sendable {
    let keys: [[UInt8]]

    public init(_ keys: [String] = []) {
        var seen = Set<String>()
        self.keys = keys.filter { seen.insert($0).inserted }.map { Array($0.utf8) }
    }

    public var isEmpty: Bool { keys.isEmpty }
    /// How many distinct keys (the keys themselves are never shown, logged or compared by `==`
    /// outside this type).
    public var count: Int { keys.count }

    /// Whether `authorization` (the header's value) is `Bearer <one of the keys>`. The scheme
    /// is case-insensitive (RFC 9110 11.1); the key is compared byte for byte.
    public func accepts(authorization: String?) -> Bool { keyIndex(authorization: authorization) != nil }

    /// Which configured key `authorization` presents (its place in the list), nil for none. The
    /// prefix cache keeps each key's prompts apart by it. Every key is compared, whichever matches.
    func keyIndex(authorization: String?) -> Int? {
        guard let presented = Self.bearerToken(authorization) else { return nil }
        var matched = -1
        for (i, key) in keys.enumerated() {
            let equal = Self.constantTimeEquals(presented, key)
            matched = equal ? i : matched
        }
        return matched >= 0 ? matched : nil
    }

    /// The token of a `Bearer` credential, or nil for any other (or no) credential.
    static func bearerToken(_ header: String?) -> [UInt8]? {
        guard let header else { return nil }
        let bytes = Array(header.utf8)
        let scheme = Array("bearer ".utf8)
        let lowered = bytes.prefix(scheme.count).map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
        guard lowered == scheme else { return nil }
        var token = bytes[scheme.count...]
        while token.first == 0x20 { token.removeFirst() }
        while token.last == 0x20 || token.last == 0x09 { token.removeLast() }
        return token.isEmpty ? nil : Array(token)
    }

    /// Equal lengths and bytes, with no early exit: the loop covers the longer input, reading a
    /// zero past the end of the shorter one, and the length difference is folded in.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt64(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<max(a.count, b.count) {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            difference |= UInt64(x ^ y)
        }
        return difference == 0
    }
}
