import Foundation

/// The id that ties a request's log line to its response (`X-Request-Id`). A client's own id is
/// kept when it is sane (1...128 visible ASCII characters, so it cannot break a log line or a
/// header); otherwise the server makes one.
enum RequestID {
    static let maxLength = 128

    static func resolve(_ incoming: String?) -> String {
        if let incoming, isSane(incoming) { return incoming }
        return make()
    }

    static func isSane(_ id: String) -> Bool {
        (1...maxLength).contains(id.utf8.count) && id.utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }

    /// 128 random bits in hex, like OpenAI's `req_...` ids.
    static func make() -> String {
        var rng = SystemRandomNumberGenerator()
        let hex = (0..<2).map { _ in String(rng.next() as UInt64, radix: 16) }.map { String(repeating: "0", count: 16 - $0.count) + $0 }
        return "req_" + hex.joined()
    }
}
