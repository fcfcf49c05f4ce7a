import Foundation
import Synchronization

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

    /// `req_` + 64 random bits drawn once per process + a 64-bit counter, in hex: unique across
    /// restarts and replicas without a getrandom(2) call per request on the event loop.
    static func make() -> String {
        "req_" + processPrefix + hex(counter.add(1, ordering: .relaxed).newValue)
    }

    private static let processPrefix = hex(UInt64.random(in: .min ... .max))
    private static let counter = Atomic<UInt64>(0)

    /// 16 hex digits.
    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
