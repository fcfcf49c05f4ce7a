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
    /// Written into one buffer (on every request, on the event loop: building it from three
    /// strings was 4% of a `/health` request's CPU).
    static func make() -> String {
        let counter = counter.add(1, ordering: .relaxed).newValue
        return String(unsafeUninitializedCapacity: 36) { out in
            for (i, b) in "req_".utf8.enumerated() { out[i] = b }
            writeHex(processPrefix, to: out, at: 4)
            writeHex(counter, to: out, at: 20)
            return 36
        }
    }

    private static let processPrefix = UInt64.random(in: .min ... .max)
    private static let counter = Atomic<UInt64>(0)
    private static let digits = Array("0123456789abcdef".utf8)

    private static func writeHex(_ value: UInt64, to out: UnsafeMutableBufferPointer<UInt8>, at start: Int) {
        for k in 0..<16 { out[start + k] = digits[Int((value >> (60 - 4 * UInt64(k))) & 0xF)] }
    }

    /// 16 hex digits.
    static func hex(_ value: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { out in
            writeHex(value, to: out, at: 0)
            return 16
        }
    }
}
